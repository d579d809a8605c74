// End-to-end tests of POST /events over real HTTP: sync and async, the tenant's retailer, refusals, and faults never retried.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { call, expectProblem } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'

describe('POST /events', () => {
  let gw: TestGateway
  let sim: Simulator
  const readOnlyKey = newApiKey()

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    gw = await startGateway({
      redisUrl: inject('redisUrl'),
      sim,
      tenants: [{ id: 'acme', apiKey: newApiKey() }, { id: 'readonly', apiKey: readOnlyKey, allowMutations: false }]
    })
  })
  afterAll(async () => {
    await gw.close()
    await sim.close()
  })
  beforeEach(() => { sim.reset() })

  const event = { name: 'PICK_CONFIRMED', entityType: 'ORDER', entityRef: 'DEMO-ORDER-1', attributes: { pickedBy: 'store-7', lines: [1, 2] } }

  it('sends a sync event with the tenant\'s retailer and answers Fluent\'s result with 200', async () => {
    const answer = await call(gw, '/events', { body: event })

    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ eventId: sim.events[0]?.id, entityId: '1', eventStatus: 'COMPLETE' })
    expect(sim.events).toHaveLength(1)
    expect(sim.events[0]?.mode).toBe('sync')
    expect(sim.events[0]?.body).toEqual({ ...event, retailerId: '1' })
  })

  it('sends an async event with mode=async and answers 202 with its id', async () => {
    const answer = await call(gw, '/events?mode=async', {
      body: { name: 'LOCATION_UPDATE', entityType: 'LOCATION', entityId: '1', entitySubtype: 'STORE', rootEntityType: 'LOCATION', rootEntityId: '1' }
    })

    expect(answer.status).toBe(202)
    expect(answer.body).toEqual({ eventId: sim.events[0]?.id })
    expect(sim.events[0]).toMatchObject({
      mode: 'async',
      body: { name: 'LOCATION_UPDATE', retailerId: '1', entityType: 'LOCATION', entityId: '1', entitySubtype: 'STORE', rootEntityType: 'LOCATION', rootEntityId: '1' }
    })
    // What Fluent keeps can be read back from its Event API.
    expect(sim.events[0]?.body).not.toHaveProperty('entityRef')
  })

  it.each([
    ['neither entityRef nor entityId', { name: 'X', entityType: 'ORDER' }],
    ['both entityRef and entityId', { name: 'X', entityType: 'ORDER', entityRef: 'A', entityId: '1' }],
    ['both rootEntityRef and rootEntityId', { name: 'X', entityType: 'ORDER', entityRef: 'A', rootEntityRef: 'A', rootEntityId: '1' }],
    ['an unknown property', { name: 'X', entityType: 'ORDER', entityRef: 'A', retailerId: '2' }],
    ['an empty name', { name: '', entityType: 'ORDER', entityRef: 'A' }]
  ])('refuses %s with 400 and sends nothing', async (_name, body) => {
    const answer = await call(gw, '/events', { body })

    expectProblem(answer, 400, 'VALIDATION_FAILED', '/events')
    expect(sim.counters.eventRequests).toBe(0)
  })

  it('refuses an unknown mode with 400', async () => {
    expectProblem(await call(gw, '/events?mode=later', { body: event }), 400, 'VALIDATION_FAILED')
    expect(sim.counters.eventRequests).toBe(0)
  })

  it('refuses a tenant with allowMutations: false with 403 and sends nothing', async () => {
    const answer = await call(gw, '/events', { body: event, apiKey: readOnlyKey })

    expectProblem(answer, 403, 'FORBIDDEN', '/events')
    expect(sim.counters.eventRequests).toBe(0)
  })

  it('answers 422 when Fluent rejects the event', async () => {
    const answer = await call(gw, '/events', { body: { ...event, entityRef: 'NO-SUCH-ORDER' } })

    expectProblem(answer, 422, 'UPSTREAM_REJECTED')
    expect(answer.body.upstream.status).toBe(400)
  })

  it.each(['sync', 'async'])('answers 502 when the %s Event API fails, and never sends the event again', async (mode) => {
    sim.faults.restFailures.push({ status: 503, match: '^POST /api/v4\\.1/event/' })
    const answer = await call(gw, `/events?mode=${mode}`, { body: event })

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE')
    expect(sim.counters.eventRequests).toBe(1)
    expect(sim.events).toHaveLength(0)
  })

  it('never retries a stock delta event either', async () => {
    sim.faults.restFailures.push({ status: 502, match: '^POST /api/v4\\.1/event/async$' })
    const answer = await call(gw, '/stock/adjustments', {
      body: { items: [{ productRef: 'MUG-BLUE', locationRef: 'LOC-SYD-01', delta: 1 }] }, headers: { 'idempotency-key': 'k-1' }
    })

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE')
    expect(sim.counters.eventRequests).toBe(1)
  })
})
