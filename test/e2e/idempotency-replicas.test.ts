// Idempotency-Key across replicas: two gateway processes on one Redis (records encrypted), one simulator.
import { randomBytes, randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator } from '../../src/simulator/types.js'
import { call, expectProblem, type Answer } from '../helpers/call.js'
import { ACCOUNT, newApiKey } from '../helpers/gateway.js'
import { startGatewayProcess, writeTenantsFile, type GatewayProcess, type TenantsFile } from '../helpers/gateway-process.js'

describe('Idempotency-Key across replicas', () => {
  const apiKey = newApiKey()
  const prefix = `idemr${randomBytes(4).toString('hex')}:`
  let sim: Simulator
  let tenants: TenantsFile
  let replicas: GatewayProcess[]
  let redis: Redis

  beforeAll(async () => {
    // Demo data: an HD order needs a location to be fulfilled from.
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    tenants = writeTenantsFile([{ id: 'acme', apiKey }], sim.url)
    const env = {
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: prefix,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      RATE_LIMIT_MAX: '0',
      MAX_EVENT_LOOP_DELAY_MS: '0'
    }
    replicas = await Promise.all([0, 1].map(async () => await startGatewayProcess({ tenantsFile: tenants.path, env, startTimeoutMs: 40_000 })))
    redis = new Redis(inject('redisUrl'))
  }, 60_000)

  afterAll(async () => {
    redis?.disconnect()
    await Promise.all((replicas ?? []).map(async (replica) => { await replica.stop() }))
    tenants?.remove()
    await sim?.close()
  })

  beforeEach(() => { sim.reset() })

  const post = async (replica: number, path: string, body: unknown, key?: string): Promise<Answer> =>
    await call(replicas[replica]!.url, path, { body, apiKey, headers: key === undefined ? {} : { 'idempotency-key': key } })

  const creates = (operationName: string): number => sim.requests.filter((request) => request.operationName === operationName).length

  it('replays the first answer byte for byte on another replica, with Idempotent-Replayed and no Fluent call', async () => {
    const key = randomUUID()
    const body = { email: 'replay@example.com', firstName: 'Re', lastName: 'Play' }
    const first = await post(0, '/customers', body, key)
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    const calls = sim.counters.graphqlRequests

    const again = await post(1, '/customers', body, key)
    expect(again.status).toBe(201)
    expect(again.text).toBe(first.text)
    expect(again.headers.get('location')).toBe(first.headers.get('location'))
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'))
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(sim.counters.graphqlRequests).toBe(calls)
    expect(creates('CreateCustomer')).toBe(1)
  })

  it('sends one create to Fluent for concurrent requests with one key; the others are 409 in flight or a replay', async () => {
    sim.faults.graphqlDelayMs = 300
    const key = randomUUID()
    const body = { ref: `SKU-C-${key}`, name: 'Concurrent', gtin: '0931' }
    const answers = await Promise.all(Array.from({ length: 8 }, async (_, index) => await post(index % 2, '/products', body, key)))
    sim.faults.graphqlDelayMs = 0
    expect(creates('CreateStandardProduct')).toBe(1)
    const created = answers.filter((answer) => answer.status === 201)
    expect(created.length).toBeGreaterThanOrEqual(1)
    expect(new Set(created.map((answer) => answer.text)).size).toBe(1)
    for (const answer of answers.filter((candidate) => candidate.status !== 201)) {
      expectProblem(answer, 409, 'IDEMPOTENCY_IN_FLIGHT')
      expect(answer.headers.get('retry-after')).toBe('1')
    }
    expect(answers.some((answer) => answer.status === 409)).toBe(true)
    const later = await post(1, '/products', body, key)
    expect(later.status).toBe(201)
    expect(later.text).toBe(created[0]!.text)
    expect(creates('CreateStandardProduct')).toBe(1)
  })

  it('refuses the same key with another body with 422 IDEMPOTENCY_KEY_REUSED, on any replica', async () => {
    const key = randomUUID()
    expect((await post(0, '/customers', { email: 'reuse@example.com', firstName: 'A' }, key)).status).toBe(201)
    const calls = sim.counters.graphqlRequests
    expectProblem(await post(1, '/customers', { email: 'reuse@example.com', firstName: 'B' }, key), 422, 'IDEMPOTENCY_KEY_REUSED')
    expect(sim.counters.graphqlRequests).toBe(calls)
  })

  it('treats bodies that differ only in key order as the same request', async () => {
    const key = randomUUID()
    const first = await post(0, '/products', { ref: `SKU-O-${key}`, name: 'Order', gtin: '1', price: { value: 2, currency: 'AUD' } }, key)
    expect(first.status).toBe(201)
    const again = await post(1, '/products', { price: { currency: 'AUD', value: 2 }, gtin: '1', name: 'Order', ref: `SKU-O-${key}` }, key)
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.text).toBe(first.text)
  })

  it('answers a product retry after a dropped connection with the product the first attempt created, not 409', async () => {
    const key = randomUUID()
    const body = { ref: `SKU-A-${key}`, name: 'Ambiguous', gtin: '42' }
    sim.faults.commitThenFail = { mode: 'drop' }
    expectProblem(await post(0, '/products', body, key), 502, 'UPSTREAM_UNAVAILABLE')
    expect(creates('CreateStandardProduct')).toBe(1)

    const retry = await post(1, '/products', body, key)
    expect(retry.status).toBe(201)
    expect(retry.body).toMatchObject({ ref: body.ref, name: 'Ambiguous', gtin: '42', catalogueRef: 'PC:MASTER:1', id: expect.any(String) })
    // The retry met Fluent's duplicate (a second create was refused), so there is still one product.
    expect(creates('CreateStandardProduct')).toBe(2)
    const found = await call(replicas[0]!.url, '/graphql', {
      apiKey, body: { query: `{ standardProduct(ref: "${body.ref}", catalogue: { ref: "PC:MASTER:1" }) { id } }` }
    })
    expect(found.body.data.standardProduct.id).toBe(retry.body.id)

    const replay = await post(0, '/products', body, key)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect(replay.text).toBe(retry.text)
  })

  it('answers a customer retry after a 502 with the customer the first attempt created, Location included', async () => {
    const key = randomUUID()
    const email = `ambiguous-${key}@example.com`
    const body = { email, firstName: 'Am', lastName: 'Biguous' }
    sim.faults.commitThenFail = { mode: '502' }
    expectProblem(await post(0, '/customers', body, key), 502, 'UPSTREAM_UNAVAILABLE')

    const retry = await post(1, '/customers', body, key)
    expect(retry.status).toBe(201)
    expect(retry.body).toMatchObject({ email, username: email, firstName: 'Am', lastName: 'Biguous', id: expect.any(String) })
    expect(retry.headers.get('location')).toBe(`/customers/${String(retry.body.id)}`)
    const listed = await call(replicas[0]!.url, `/customers?email=${encodeURIComponent(email)}`, { apiKey })
    expect(listed.body.items).toHaveLength(1)
    expect(listed.body.items[0].id).toBe(retry.body.id)
  })

  it('answers an order retry after a dropped connection with the order the first attempt created, not 409', async () => {
    const key = randomUUID()
    const customer = await post(0, '/customers', { email: `order-${key}@example.com`, firstName: 'Or' }, randomUUID())
    expect(customer.status).toBe(201)
    const body = {
      ref: `HD-A-${key}`,
      customer: { id: String(customer.body.id) },
      items: [{ ref: `HD-A-${key}-1`, productRef: 'MUG-BLUE', quantity: 2 }],
      delivery: { address: { name: 'Or', street: '1 Main St', city: 'Sydney', postcode: '2000', country: 'AU' } }
    }
    sim.faults.commitThenFail = { mode: 'drop' }
    expectProblem(await post(0, '/orders', body, key), 502, 'UPSTREAM_UNAVAILABLE')
    expect(creates('CreateOrder')).toBe(1)

    const retry = await post(1, '/orders', body, key)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('location')).toBe(`/orders/${body.ref}`)
    expect(retry.body).toMatchObject({ ref: body.ref, type: 'HD', customerId: String(customer.body.id), items: [{ ref: `HD-A-${key}-1`, quantity: 2 }] })
    // The retry met Fluent's duplicate ref, so there is still one order.
    expect(creates('CreateOrder')).toBe(2)
    const listed = await call(replicas[0]!.url, `/orders/${body.ref}`, { apiKey })
    expect(listed.body.id).toBe(retry.body.id)
  })

  it('runs a retry again when the ambiguous first attempt never committed', async () => {
    const key = randomUUID()
    const body = { ref: `SKU-N-${key}`, name: 'Never', gtin: '7' }
    sim.faults.graphqlFailures = [{ status: 503 }]
    expectProblem(await post(0, '/products', body, key), 502, 'UPSTREAM_UNAVAILABLE')
    const retry = await post(1, '/products', body, key)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBeNull()
  })

  it('keeps no plaintext body in Redis when TOKEN_ENCRYPTION_KEY is set', async () => {
    const key = randomUUID()
    const email = `secret-${key}@example.com`
    expect((await post(0, '/customers', { email, firstName: 'Sealed' }, key)).status).toBe(201)
    const keys = await redis.keys(`${prefix}idem:acme:*`)
    expect(keys.length).toBeGreaterThan(0)
    const values = await Promise.all(keys.map(async (name) => await redis.get(name)))
    for (const value of values) {
      expect(value).toMatch(/^[DA]:v1:/)
      expect(value).not.toContain('Sealed')
      expect(value).not.toContain('secret-')
    }
    // Keys name the scope by hash: neither the Idempotency-Key nor the body shows in them.
    expect(keys.join(' ')).not.toContain(key)
  })
})
