// End-to-end tests of stock deltas and stock loads over real HTTP: what the caller sees and what Fluent (the simulator) received.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { call, expectProblem, type Answer } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { SPOOL_PREFIX } from '../../src/stock/spool.js'

const SYD = 'LOC-SYD-01'
const MEL = 'LOC-MEL-01'

describe('stock loads and deltas', () => {
  let gw: TestGateway
  let sim: Simulator
  let spoolDir: string
  const originalTmp = process.env.TMPDIR

  beforeAll(async () => {
    // Spool files land in os.tmpdir(); a private one lets the tests prove each is removed.
    spoolDir = mkdtempSync(join(tmpdir(), 'stockload-test-'))
    process.env.TMPDIR = spoolDir
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true, jobStepMs: 50 })
    gw = await startGateway({ redisUrl: inject('redisUrl'), sim, env: { STOCK_UPLOAD_LIMIT_BYTES: String(2 * 1024 * 1024) } })
  })
  afterAll(async () => {
    await gw.close()
    await sim.close()
    process.env.TMPDIR = originalTmp
    rmSync(spoolDir, { recursive: true, force: true })
  })
  beforeEach(() => { sim.reset() })

  function spoolFiles (): string[] {
    return readdirSync(spoolDir).filter((name) => name.startsWith(SPOOL_PREFIX))
  }

  async function onHand (productRef: string, locationRef: string): Promise<number | null> {
    const answer = await call(gw, '/graphql', {
      body: {
        query: 'query P($p: [String!], $l: [String]) { inventoryPositions(productRef: $p, locationRef: $l, catalogue: { ref: "DEFAULT:1" }) { edges { node { onHand } } } }',
        variables: { p: [productRef], l: [locationRef] }
      }
    })
    expect(answer.status).toBe(200)
    const edges = answer.body.data.inventoryPositions.edges as Array<{ node: { onHand: number } }>
    return edges[0]?.node.onHand ?? null
  }

  async function putStock (body: string, contentType = 'text/csv', headers: Record<string, string> = {}): Promise<Answer> {
    return await call(gw, '/stock', { method: 'PUT', body, headers: { 'content-type': contentType, ...headers } })
  }

  function csv (rows: number, header = 'productRef,locationRef,quantity'): string {
    const lines = [header]
    for (let index = 0; index < rows; index++) lines.push(`SKU-${index},${SYD},${index % 50}`)
    return `${lines.join('\n')}\n`
  }

  describe('POST /stock/adjustments', () => {
    it('sends one async INVENTORY_DELTA on the tenant\'s catalogue with deltaIds {key}:{index}, and the stock moves', async () => {
      const answer = await call(gw, '/stock/adjustments', {
        body: { items: [{ productRef: 'MUG-BLUE', locationRef: SYD, delta: -2 }, { productRef: 'NEW-SKU', locationRef: MEL, delta: 7 }] },
        headers: { 'idempotency-key': 'pos-42-sale-1017' }
      })

      expect(answer.status).toBe(202)
      expect(answer.body).toEqual({
        eventId: sim.events[0]?.id,
        items: [
          { deltaId: 'pos-42-sale-1017:0', productRef: 'MUG-BLUE', locationRef: SYD, delta: -2 },
          { deltaId: 'pos-42-sale-1017:1', productRef: 'NEW-SKU', locationRef: MEL, delta: 7 }
        ]
      })
      expect(sim.counters.eventRequests).toBe(1)
      expect(sim.events).toHaveLength(1)
      expect(sim.events[0]?.mode).toBe('async')
      expect(sim.events[0]?.body).toEqual({
        name: 'INVENTORY_DELTA',
        retailerId: '1',
        entityType: 'INVENTORY_CATALOGUE',
        entityRef: 'DEFAULT:1',
        entitySubtype: 'DEFAULT',
        rootEntityType: 'INVENTORY_CATALOGUE',
        rootEntityRef: 'DEFAULT:1',
        attributes: {
          items: [
            { deltaId: 'pos-42-sale-1017:0', productRef: 'MUG-BLUE', locationRef: SYD, qty: -2 },
            { deltaId: 'pos-42-sale-1017:1', productRef: 'NEW-SKU', locationRef: MEL, qty: 7 }
          ]
        }
      })
      expect(await onHand('MUG-BLUE', SYD)).toBe(10)
      expect(await onHand('NEW-SKU', MEL)).toBe(7)
    })

    it('answers a retry with the same Idempotency-Key from the stored answer, sending the deltas once', async () => {
      const request = { body: { items: [{ productRef: 'MUG-BLUE', locationRef: SYD, delta: -1 }] }, headers: { 'idempotency-key': 'pos-42-retry-1' } }
      const first = await call(gw, '/stock/adjustments', request)
      const retry = await call(gw, '/stock/adjustments', request)

      expect(first.status).toBe(202)
      expect(retry.status).toBe(202)
      expect(retry.headers.get('idempotent-replayed')).toBe('true')
      expect(retry.text).toBe(first.text)
      expect(sim.counters.eventRequests).toBe(1)
      expect(await onHand('MUG-BLUE', SYD)).toBe(11)
    })

    it('refuses a request without Idempotency-Key with 400 IDEMPOTENCY_KEY_REQUIRED and calls Fluent not at all', async () => {
      const answer = await call(gw, '/stock/adjustments', { body: { items: [{ productRef: 'MUG-BLUE', locationRef: SYD, delta: 1 }] } })

      expectProblem(answer, 400, 'IDEMPOTENCY_KEY_REQUIRED', '/stock/adjustments')
      expect(sim.counters.eventRequests + sim.counters.tokenRequests + sim.counters.graphqlRequests).toBe(0)
    })

    it.each([
      ['a key with a space', { 'idempotency-key': 'has space' }, { items: [{ productRef: 'A', locationRef: 'B', delta: 1 }] }],
      ['a key over 255 characters', { 'idempotency-key': 'k'.repeat(256) }, { items: [{ productRef: 'A', locationRef: 'B', delta: 1 }] }],
      ['a zero delta', { 'idempotency-key': 'k1' }, { items: [{ productRef: 'A', locationRef: 'B', delta: 0 }] }],
      ['a fractional delta', { 'idempotency-key': 'k1' }, { items: [{ productRef: 'A', locationRef: 'B', delta: 1.5 }] }],
      ['no items', { 'idempotency-key': 'k1' }, { items: [] }],
      ['1001 items', { 'idempotency-key': 'k1' }, { items: Array.from({ length: 1001 }, () => ({ productRef: 'A', locationRef: 'B', delta: 1 })) }]
    ])('refuses %s with 400 VALIDATION_FAILED and sends nothing', async (_name, headers, body) => {
      const answer = await call(gw, '/stock/adjustments', { body, headers })

      expectProblem(answer, 400, 'VALIDATION_FAILED')
      expect(sim.counters.eventRequests).toBe(0)
    })
  })

  describe('PUT /stock', () => {
    it('loads a CSV with reordered columns, quoted fields, a BOM and CRLF, and answers 202 with the job', async () => {
      const body = '\uFEFFquantity,"productRef",locationRef\r\n' +
        `40,"MUG-BLUE",${SYD}\r\n` +
        `"3","TEE ""WHITE"", M",${MEL}\r\n` +
        '\r\n' +
        `0,CAP-BLACK,${SYD}\r\n`
      const answer = await putStock(body, 'text/csv; charset=utf-8')

      expect(answer.status).toBe(202)
      expect(answer.body).toEqual({ jobId: sim.jobs[0]?.id, entities: 3, batches: [{ id: sim.batches[0]?.id, entities: 3, status: 'PENDING' }] })
      expect(answer.headers.get('location')).toBe(`/stock/imports/${answer.body.jobId as string}`)
      expect(sim.jobs).toEqual([expect.objectContaining({ retailerId: '1', name: expect.any(String) })])
      expect(sim.batches[0]).toMatchObject({
        action: 'UPSERT',
        entityType: 'INVENTORY',
        catalogueRef: 'DEFAULT:1',
        entities: [
          { locationRef: SYD, skuRef: 'MUG-BLUE', qty: 40, correctedQty: 0, retailerId: '1' },
          { locationRef: MEL, skuRef: 'TEE "WHITE", M', qty: 3, correctedQty: 0, retailerId: '1' },
          { locationRef: SYD, skuRef: 'CAP-BLACK', qty: 0, correctedQty: 0, retailerId: '1' }
        ]
      })
      expect(await onHand('MUG-BLUE', SYD)).toBe(40)
      expect(await onHand('CAP-BLACK', SYD)).toBe(0)
      expect(spoolFiles()).toEqual([])
    })

    it('answers a retried upload with the same Idempotency-Key and bytes from the stored answer (one job), and other bytes with 422', async () => {
      const key = { 'idempotency-key': 'erp-nightly-2026-12-01' }
      const first = await putStock(csv(3), 'text/csv', key)
      const retry = await putStock(csv(3), 'text/csv', key)
      const other = await putStock(csv(4), 'text/csv', key)

      expect(first.status).toBe(202)
      expect(retry.status).toBe(202)
      expect(retry.headers.get('idempotent-replayed')).toBe('true')
      expect(retry.text).toBe(first.text)
      expectProblem(other, 422, 'IDEMPOTENCY_KEY_REUSED')
      expect(sim.counters.jobRequests).toBe(1)
      expect(spoolFiles()).toEqual([])
    })

    it('loads a JSON body', async () => {
      const answer = await putStock(JSON.stringify({
        items: [{ productRef: 'MUG-BLUE', locationRef: MEL, quantity: 9 }, { quantity: 1, locationRef: SYD, productRef: 'BOTTLE-1L' }]
      }), 'application/json')

      expect(answer.status).toBe(202)
      expect(answer.body.entities).toBe(2)
      expect(sim.batches[0]?.entities).toEqual([
        { locationRef: MEL, skuRef: 'MUG-BLUE', qty: 9, correctedQty: 0, retailerId: '1' },
        { locationRef: SYD, skuRef: 'BOTTLE-1L', qty: 1, correctedQty: 0, retailerId: '1' }
      ])
      expect(await onHand('MUG-BLUE', MEL)).toBe(9)
    })

    it('sends 12,000 rows as three batches of at most 5,000, in order, and reads the job back until COMPLETE', async () => {
      const answer = await putStock(csv(12_000))

      expect(answer.status).toBe(202)
      expect(answer.body.entities).toBe(12_000)
      expect(answer.body.batches.map((batch: { entities: number }) => batch.entities)).toEqual([5000, 5000, 2000])
      expect(sim.counters.jobRequests).toBe(1)
      expect(sim.counters.batchRequests).toBe(3)
      expect(sim.batches.flatMap((batch) => batch.entities).map((entity) => entity.skuRef)).toEqual(Array.from({ length: 12_000 }, (_, index) => `SKU-${index}`))

      const first = await call(gw, `/stock/imports/${answer.body.jobId as string}`)
      expect(first.status).toBe(200)
      expect(first.body).toMatchObject({ jobId: answer.body.jobId, status: expect.stringMatching(/^(PENDING|RUNNING|COMPLETE)$/) })
      expect(first.body.batches.map((batch: { id: string, entities: number }) => [batch.id, batch.entities]))
        .toEqual(answer.body.batches.map((batch: { id: string, entities: number }) => [batch.id, batch.entities]))
      await sleep(150)
      const later = await call(gw, `/stock/imports/${answer.body.jobId as string}`)
      expect(later.body.status).toBe('COMPLETE')
      expect(later.body.batches.every((batch: { status: string }) => batch.status === 'COMPLETE')).toBe(true)
    })

    it('answers 404 for a job Fluent does not have', async () => {
      expectProblem(await call(gw, '/stock/imports/999999'), 404, 'NOT_FOUND', '/stock/imports/999999')
    })

    it.each([
      ['a negative quantity', `productRef,locationRef,quantity\nA,${SYD},1\nB,${SYD},1\nC,${SYD},-4\n`, 4, 3, 'quantity'],
      ['a missing ref', `productRef,locationRef,quantity\nA,${SYD},1\nB,,1\n`, 3, 2, 'locationRef'],
      ['a fractional quantity', `locationRef,quantity,productRef\n${SYD},2.5,A\n`, 2, 2, 'quantity']
    ])('refuses %s with 400 naming line and column, and creates no job or batch', async (_name, body, line, column, name) => {
      const answer = await putStock(body)

      expectProblem(answer, 400, 'VALIDATION_FAILED', '/stock')
      expect(answer.body.errors[0]).toEqual({ path: `/body/line/${line}/column/${column}`, message: expect.stringContaining(`line ${line}, column ${column} (${name})`) })
      expect(answer.body.detail).toContain(`line ${line}, column ${column}`)
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
      expect(spoolFiles()).toEqual([])
    })

    it('refuses a bad row deep in a large file, after valid ones, and sends nothing', async () => {
      const rows = csv(9_000).split('\n')
      rows[7_001] = `SKU-X,${SYD}` // line 7002: a field short
      const answer = await putStock(rows.join('\n'))

      expectProblem(answer, 400, 'VALIDATION_FAILED')
      expect(answer.body.errors).toEqual([{ path: '/body/line/7002', message: 'line 7002: has 2 fields where the header has 3' }])
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
    })

    it.each([
      ['an unknown column', `productRef,locationRef,quantity,colour\nA,${SYD},1,red\n`, '/body/line/1/column/4'],
      ['a missing column', 'productRef,quantity\nA,1\n', '/body/line/1'],
      ['an unclosed quote', `productRef,locationRef,quantity\n"A,${SYD},1\n`, '/body/line/'],
      ['no rows', 'productRef,locationRef,quantity\n', '/body']
    ])('refuses a CSV with %s with 400 and sends nothing', async (_name, body, path) => {
      const answer = await putStock(body)

      expectProblem(answer, 400, 'VALIDATION_FAILED')
      expect(answer.body.errors[0].path).toContain(path)
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
    })

    it.each([
      ['an item without quantity', '{"items":[{"productRef":"A","locationRef":"B"}]}', '/body/items/0/quantity'],
      ['an unknown item property', '{"items":[{"productRef":"A","locationRef":"B","quantity":1,"x":1}]}', '/body/items/0/x'],
      ['an unknown top-level property', '{"items":[],"note":"x"}', '/body/note'],
      ['items not an array', '{"items":{}}', '/body/items'],
      ['broken JSON', '{"items":[{"productRef":"A",', '/body'],
      ['a top-level array', '[1]', '/body']
    ])('refuses JSON with %s with 400 and sends nothing', async (_name, body, path) => {
      const answer = await putStock(body, 'application/json')

      expectProblem(answer, 400, 'VALIDATION_FAILED')
      expect(answer.body.errors[0].path).toBe(path)
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
    })

    it('refuses a body over STOCK_UPLOAD_LIMIT_BYTES with 413 by Content-Length, and sends nothing', async () => {
      const answer = await putStock(csv(100_000))

      expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE', '/stock')
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
    })

    it('refuses a chunked body over the limit with 413, counting the stream, and sends nothing', async () => {
      const chunk = Buffer.from(csv(10_000))
      let sent = 0
      const body = new ReadableStream({
        pull (controller) {
          if (sent > 3 * 1024 * 1024) controller.close()
          else {
            const next = sent === 0 ? chunk : Buffer.from(`SKU-MORE,${SYD},1\n`.repeat(5000))
            controller.enqueue(next)
            sent += next.length
          }
        }
      })
      const response = await fetch(`${gw.url}/stock`, {
        method: 'PUT', body, duplex: 'half', headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'text/csv' }
      } as RequestInit)

      expect(response.status).toBe(413)
      expect((await response.json() as { code: string }).code).toBe('PAYLOAD_TOO_LARGE')
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
      expect(spoolFiles()).toEqual([])
    })

    it('removes the spool file when the caller goes away mid-upload, and sends nothing', async () => {
      const controller = new AbortController()
      let pulls = 0
      const body = new ReadableStream({
        async pull (stream) {
          pulls++
          if (pulls > 1) await sleep(100)
          stream.enqueue(Buffer.from(pulls === 1 ? csv(2_000) : `SKU-MORE,${SYD},1\n`.repeat(100)))
        }
      })
      const pending = fetch(`${gw.url}/stock`, {
        method: 'PUT', body, duplex: 'half', signal: controller.signal, headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'text/csv' }
      } as RequestInit).catch((error: unknown) => error)
      await expect.poll(() => spoolFiles().length, { timeout: 5000, interval: 10 }).toBe(1)
      controller.abort()
      await pending

      await expect.poll(() => spoolFiles().length, { timeout: 5000, interval: 20 }).toBe(0)
      expect(sim.counters.jobRequests + sim.counters.batchRequests).toBe(0)
    })

    it('refuses other media types with 415', async () => {
      expectProblem(await putStock('a', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE')
    })

    it('answers 502 naming the job and the batches Fluent accepted when a batch fails half-way, never retrying it; the spool is removed', async () => {
      sim.faults.restFailures.push({ status: 503, match: '^POST /api/v4\\.1/job/[^/]+/batch$', skip: 2 })
      sim.faults.restDelayMs = 100
      const pending = putStock(csv(12_000))
      // While the batches go out, the spool file exists; once answered it is gone.
      await expect.poll(() => sim.counters.batchRequests, { timeout: 5000, interval: 20 }).toBeGreaterThan(0)
      expect(spoolFiles()).toHaveLength(1)
      const answer = await pending

      expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE', '/stock')
      expect(answer.body.stockLoad).toEqual({
        jobId: sim.jobs[0]?.id,
        entities: 10_000,
        batches: [{ id: sim.batches[0]?.id, entities: 5000, status: 'PENDING' }, { id: sim.batches[1]?.id, entities: 5000, status: 'PENDING' }]
      })
      expect(answer.body.detail).toContain(`job ${sim.jobs[0]?.id ?? ''}`)
      expect(sim.counters.batchRequests).toBe(3)
      expect(sim.batches).toHaveLength(2)
      expect(spoolFiles()).toEqual([])
    })

    it('answers 502 and creates no batch when Fluent fails the job itself', async () => {
      sim.faults.restFailures.push({ status: 500, match: '^POST /api/v4\\.1/job$' })
      const answer = await putStock(csv(10))

      expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE')
      expect(answer.body.stockLoad).toBeUndefined()
      expect(sim.counters.jobRequests).toBe(1)
      expect(sim.counters.batchRequests).toBe(0)
      expect(spoolFiles()).toEqual([])
    })
  })

  it('refuses stock changes for a tenant without a retailer with 400, sending nothing', async () => {
    const apiKey = newApiKey()
    const other = await startGateway({ redisUrl: inject('redisUrl'), sim, tenants: [{ id: 'noretailer', apiKey, retailerId: null }] })
    try {
      expectProblem(await call(other, '/stock', { method: 'PUT', body: csv(1), headers: { 'content-type': 'text/csv' } }), 400, 'VALIDATION_FAILED')
      expectProblem(await call(other, '/stock/adjustments', {
        body: { items: [{ productRef: 'A', locationRef: 'B', delta: 1 }] }, headers: { 'idempotency-key': 'k' }
      }), 400, 'VALIDATION_FAILED')
      expect(sim.counters.jobRequests + sim.counters.eventRequests).toBe(0)
    } finally {
      await other.close()
    }
  })
})
