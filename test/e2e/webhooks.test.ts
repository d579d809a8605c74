// POST /webhooks/fluent/{tenant} verifies Fluent's signature over the raw bytes, stores each event id once, and
// GET /webhook-events and POST /webhook-events/{id}/ack serve the outbox to the tenant whose API key calls.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, expectProblem, metricValue } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway, type TestTenant } from '../helpers/gateway.js'
import { STRANGER, fluentEvent, outboxIds, postWebhook, type PostOptions } from '../helpers/webhooks.js'

let sim: Simulator
let gateway: TestGateway
const acme: TestTenant = { id: 'acme', apiKey: newApiKey() }
const beta: TestTenant = { id: 'beta', apiKey: newApiKey() }
const keyless: TestTenant = { id: 'keyless', apiKey: newApiKey() }
const paging: TestTenant = { id: 'paging', apiKey: newApiKey() }

beforeAll(async () => {
  sim = await startSimulator({ accounts: [ACCOUNT], webhookRetryDelaysMs: [0, 50] })
  const webhooks = { publicKey: sim.webhookPublicKey }
  gateway = await startGateway({
    sim,
    redisUrl: inject('redisUrl'),
    tenants: [{ ...acme, webhooks }, { ...beta, webhooks }, keyless, { ...paging, webhooks }]
  })
})

afterAll(async () => {
  await gateway?.close()
  await sim?.close()
})

const as = (tenant: TestTenant): { url: string, apiKey: string } => ({ url: gateway.url, apiKey: tenant.apiKey })

describe('POST /webhooks/fluent/{tenant}', () => {
  it('stores a correctly signed event and answers 200 once it is in the outbox, without an API key', async () => {
    const event = fluentEvent({ extraField: { kept: true } })
    const answer = await postWebhook(gateway.url, sim, 'acme', event)
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ id: event.id, duplicate: false })

    const page = await call(as(acme), '/webhook-events')
    expect(page.status).toBe(200)
    const item = (page.body.items as Array<{ id: string, receivedAt: string, event: unknown }>).find((entry) => entry.id === event.id)
    // The event as Fluent sent it, fields the schema does not name included.
    expect(item?.event).toEqual(event)
    expect(Date.now() - Date.parse(item?.receivedAt ?? '')).toBeLessThan(60_000)
  })

  it('answers a second delivery of a stored id with 200 and stores nothing', async () => {
    const event = fluentEvent()
    expect((await postWebhook(gateway.url, sim, 'acme', event)).body).toEqual({ id: event.id, duplicate: false })
    const again = await postWebhook(gateway.url, sim, 'acme', event)
    expect(again.status).toBe(200)
    expect(again.body).toEqual({ id: event.id, duplicate: true })
    expect((await outboxIds(as(acme))).filter((id) => id === event.id)).toHaveLength(1)
  })

  it('accepts numeric event ids and keeps them apart from others', async () => {
    const event = fluentEvent({ id: 987654321 })
    expect((await postWebhook(gateway.url, sim, 'acme', event)).body).toEqual({ id: '987654321', duplicate: false })
    expect(await outboxIds(as(acme))).toContain('987654321')
  })

  it.each<[string, (body: string) => PostOptions]>([
    ['no fluent-signature header', () => ({ signature: null })],
    ['a signature by another key', () => ({ privateKey: STRANGER.privateKey })],
    ['a signature that is not base64', () => ({ signature: 'not base64!' })],
    ['an empty signature', () => ({ signature: '' })],
    ['a body changed after signing', (body) => ({ signed: body.replace('FULFILMENT_CREATED', 'FULFILMENT_CANCELLED') })]
  ])('refuses %s with 401 SIGNATURE_INVALID and stores nothing', async (_name, options) => {
    const event = fluentEvent()
    const body = JSON.stringify(event)
    const answer = await postWebhook(gateway.url, sim, 'acme', body, options(body))
    expectProblem(answer, 401, 'SIGNATURE_INVALID', '/webhooks/fluent/acme')
    expect(await outboxIds(as(acme))).not.toContain(event.id)
  })

  it('refuses a tenant with no webhook key and an unknown tenant alike with 401', async () => {
    expectProblem(await postWebhook(gateway.url, sim, 'keyless', fluentEvent()), 401, 'SIGNATURE_INVALID')
    expect(await outboxIds(as(keyless))).toEqual([])
    const unknown = await postWebhook(gateway.url, sim, 'nobody', fluentEvent())
    expectProblem(unknown, 401, 'SIGNATURE_INVALID')
    expect(unknown.body.detail).toBe((await postWebhook(gateway.url, sim, 'keyless', fluentEvent())).body.detail)
  })

  it('answers 400 for a signed body that is not JSON, or has no string or number id', async () => {
    expectProblem(await postWebhook(gateway.url, sim, 'acme', 'this is not json'), 400, 'VALIDATION_FAILED')
    expectProblem(await postWebhook(gateway.url, sim, 'acme', { name: 'NO_ID' }), 400, 'VALIDATION_FAILED')
    expectProblem(await postWebhook(gateway.url, sim, 'acme', { id: { nested: 1 } }), 400, 'VALIDATION_FAILED')
    expectProblem(await postWebhook(gateway.url, sim, 'acme', '[1,2]'), 400, 'VALIDATION_FAILED')
  })

  it('refuses a body over 256 KB with 413', async () => {
    const answer = await postWebhook(gateway.url, sim, 'acme', fluentEvent({ attributes: { blob: 'x'.repeat(256 * 1024) } }))
    expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE')
  })

  it('takes what the simulator sends as Fluent, and the simulator retries a refused delivery on its schedule', async () => {
    const delivered = await sim.webhooks.send(`${gateway.url}/webhooks/fluent/acme`, { name: 'ORDER_CREATED', entityType: 'ORDER' })
    expect(delivered.delivered).toBe(true)
    expect(delivered.attempts.map((attempt) => attempt.status)).toEqual([200])
    expect(await outboxIds(as(acme))).toContain(delivered.eventId)

    sim.webhooks.settings.tamper = 'body'
    try {
      const refused = await sim.webhooks.send(`${gateway.url}/webhooks/fluent/acme`, { name: 'ORDER_CREATED' })
      // The first attempt and one retry per configured delay ([0, 50] in this file).
      expect(refused.attempts.map((attempt) => attempt.status)).toEqual([401, 401, 401])
      expect(refused.delivered).toBe(false)
      expect(await outboxIds(as(acme))).not.toContain(refused.eventId)
    } finally {
      sim.webhooks.settings.tamper = 'none'
    }
    sim.webhooks.settings.tamper = 'signature'
    try {
      expect((await sim.webhooks.send(`${gateway.url}/webhooks/fluent/acme`, { name: 'ORDER_CREATED' })).attempts[0]?.status).toBe(401)
    } finally {
      sim.webhooks.settings.tamper = 'none'
    }
  })
})

describe('GET /webhook-events and POST /webhook-events/{id}/ack', () => {
  it('needs an API key', async () => {
    expectProblem(await call(gateway.url, '/webhook-events'), 401, 'UNAUTHENTICATED')
    expectProblem(await call(gateway.url, '/webhook-events/x/ack', { method: 'POST' }), 401, 'UNAUTHENTICATED')
  })

  it('shows each tenant only its own events, and acks only its own', async () => {
    const event = fluentEvent()
    expect((await postWebhook(gateway.url, sim, 'beta', event)).status).toBe(200)
    expect(await outboxIds(as(beta))).toContain(event.id)
    expect(await outboxIds(as(acme))).not.toContain(event.id)
    expectProblem(await call(as(acme), `/webhook-events/${event.id as string}/ack`, { method: 'POST' }), 404, 'NOT_FOUND')
    expect(await outboxIds(as(beta))).toContain(event.id)
  })

  it('pages in arrival order with nextCursor and Link rel="next"', async () => {
    const events = [fluentEvent(), fluentEvent(), fluentEvent()]
    for (const event of events) expect((await postWebhook(gateway.url, sim, 'paging', event)).status).toBe(200)
    const first = await call(as(paging), '/webhook-events?limit=2')
    expect(first.body.items.map((item: { id: string }) => item.id)).toEqual([events[0]?.id, events[1]?.id])
    expect(first.body.nextCursor).toEqual(expect.any(String))
    expect(first.headers.get('link')).toBe(`</webhook-events?limit=2&after=${encodeURIComponent(first.body.nextCursor as string)}>; rel="next"`)
    const second = await call(as(paging), `/webhook-events?limit=2&after=${first.body.nextCursor as string}`)
    expect(second.body.items.map((item: { id: string }) => item.id)).toEqual([events[2]?.id])
    expect(second.body.nextCursor).toBeNull()
    expect(second.headers.get('link')).toBeNull()
  })

  it('refuses a malformed cursor or limit with 400', async () => {
    expectProblem(await call(as(paging), '/webhook-events?after=abc'), 400, 'VALIDATION_FAILED')
    expectProblem(await call(as(paging), '/webhook-events?limit=101'), 400, 'VALIDATION_FAILED')
    expectProblem(await call(as(paging), '/webhook-events?limit=0'), 400, 'VALIDATION_FAILED')
  })

  it('removes an acked event (204), answers 404 for it afterwards, and still treats a Fluent retry of it as a duplicate', async () => {
    const event = fluentEvent()
    await postWebhook(gateway.url, sim, 'acme', event)
    const ack = await call(as(acme), `/webhook-events/${event.id as string}/ack`, { method: 'POST' })
    expect(ack.status).toBe(204)
    expect(ack.text).toBe('')
    expect(await outboxIds(as(acme))).not.toContain(event.id)
    expectProblem(await call(as(acme), `/webhook-events/${event.id as string}/ack`, { method: 'POST' }), 404, 'NOT_FOUND')
    expectProblem(await call(as(acme), '/webhook-events/never-seen/ack', { method: 'POST' }), 404, 'NOT_FOUND')
    expect((await postWebhook(gateway.url, sim, 'acme', event)).body).toEqual({ id: event.id, duplicate: true })
    expect(await outboxIds(as(acme))).not.toContain(event.id)
  })
})

describe('webhook metrics', () => {
  it('counts received, rejected by reason, duplicates and stored, and shows each webhook tenant\'s outbox length', async () => {
    const metrics = async (): Promise<string> => (await call(gateway.url, '/metrics')).text
    const before = await metrics()
    const event = fluentEvent()
    await postWebhook(gateway.url, sim, 'beta', event)
    await postWebhook(gateway.url, sim, 'beta', event)
    await postWebhook(gateway.url, sim, 'beta', fluentEvent(), { signature: null })
    await postWebhook(gateway.url, sim, 'beta', 'nope')
    const after = await metrics()
    const delta = (name: string, labels: Record<string, string> = {}): number => metricValue(after, name, labels) - metricValue(before, name, labels)
    expect(delta('fgw_webhooks_received_total')).toBe(4)
    expect(delta('fgw_webhooks_stored_total')).toBe(1)
    expect(delta('fgw_webhooks_duplicates_total')).toBe(1)
    expect(delta('fgw_webhooks_rejected_total', { reason: 'signature' })).toBe(1)
    expect(delta('fgw_webhooks_rejected_total', { reason: 'not_json' })).toBe(1)
    expect(metricValue(after, 'fgw_webhooks_outbox_length', { tenant: 'beta' })).toBe((await outboxIds(as(beta))).length)
    // Tenants without a webhook key get no series.
    expect(after).not.toMatch(/fgw_webhooks_outbox_length\{tenant="keyless"\}/)
  })
})
