// Upstream resilience through the whole gateway: deadline, query retries, no mutation retries, Retry-After, circuit breaker.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, expectProblem, metricValue } from '../helpers/call.js'
import { ACCOUNT, startGateway, type TestGateway } from '../helpers/gateway.js'

const NEW_CUSTOMER = { email: 'resilience@example.com', firstName: 'Res' }

describe('upstream resilience', () => {
  let sim: Simulator
  /** A 3 s deadline: room for a retry after Retry-After: 1. */
  let gw: TestGateway
  /** A 1 s deadline and a circuit that opens after 3 failures for 1.5 s. */
  let fast: TestGateway

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT] })
    const redisUrl = inject('redisUrl')
    gw = await startGateway({ sim, redisUrl, env: { FLUENT_TIMEOUT_MS: '3000' } })
    fast = await startGateway({
      sim,
      redisUrl,
      env: { FLUENT_TIMEOUT_MS: '1000', FLUENT_CIRCUIT_FAILURES: '3', FLUENT_CIRCUIT_COOL_DOWN_MS: '1500' }
    })
  })
  afterEach(() => { sim.reset() })
  afterAll(async () => {
    await gw.close()
    await fast.close()
    await sim.close()
  })

  it('answers 504 UPSTREAM_TIMEOUT within the deadline when Fluent hangs, sending the query once', async () => {
    expect((await call(fast, '/me')).status).toBe(200)
    sim.reset()
    sim.faults.hang = true

    const answer = await call(fast, '/me')

    expectProblem(answer, 504, 'UPSTREAM_TIMEOUT')
    // The deadline is 1000 ms; the margin covers a busy machine, not a retry (which would need another deadline).
    expect(answer.ms).toBeGreaterThanOrEqual(950)
    expect(answer.ms).toBeLessThan(1000 + 750)
    expect(sim.requests).toHaveLength(1)
  })

  it('answers 200 to a GET after one retry when Fluent answers 503 first', async () => {
    sim.faults.graphqlFailures.push({ status: 503 })

    const answer = await call(gw, '/me')

    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ username: ACCOUNT.username })
    expect(sim.requests.map((request) => request.status)).toEqual([503, 200])
    expect(sim.requests.map((request) => request.operationName)).toEqual(['Me', 'Me'])
  })

  it('answers 502 to POST /customers when Fluent fails with 500, having sent the mutation exactly once', async () => {
    sim.faults.graphqlFailures.push({ status: 500, times: 3 })

    const answer = await call(gw, '/customers', { body: NEW_CUSTOMER })

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE')
    expect(sim.requests).toHaveLength(1)
    expect(sim.requests[0]?.operationName).toBe('CreateCustomer')
  })

  it('honours Fluent\'s Retry-After: 1 on a query, retrying a second later within the deadline', async () => {
    sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '1' } })

    const answer = await call(gw, '/me')

    expect(answer.status).toBe(200)
    expect(answer.ms).toBeLessThan(3000)
    const [first, second] = sim.requests
    expect(sim.requests.map((request) => request.status)).toEqual([429, 200])
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950)
  })

  it('passes Fluent\'s 429 on as 429 RATE_LIMITED with its Retry-After when waiting would pass the deadline', async () => {
    sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '20' } })

    const answer = await call(gw, '/me')

    expectProblem(answer, 429, 'RATE_LIMITED')
    expect(answer.headers.get('retry-after')).toBe('20')
    expect(sim.requests).toHaveLength(1)
  })

  it('opens the circuit after repeated timeouts, answering 502 at once with Retry-After until a probe succeeds', async () => {
    const scrape = async (): Promise<string> => (await call(fast.url, '/metrics')).text
    expect((await call(fast, '/me')).status).toBe(200)
    sim.reset()
    sim.faults.hang = true

    // Three callers each wait out the deadline: the third timeout opens the circuit.
    const hung = await Promise.all([1, 2, 3].map(async () => await call(fast, '/me')))
    for (const answer of hung) expectProblem(answer, 504, 'UPSTREAM_TIMEOUT')
    expect(sim.requests).toHaveLength(3)
    expect(metricValue(await scrape(), 'fgw_upstream_circuits_open')).toBe(1)

    const refused = await Promise.all([1, 2, 3, 4, 5].map(async () => await call(fast, '/me')))
    for (const answer of refused) {
      expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE')
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      expect(Number(answer.headers.get('retry-after'))).toBeLessThanOrEqual(2)
      // Below the 1 s deadline a hung call costs: nothing was sent (sim.requests below says so too).
      expect(answer.ms).toBeLessThan(1_000)
    }
    expect(sim.requests).toHaveLength(3)
    expect(metricValue(await scrape(), 'fgw_upstream_duration_seconds_count', { operation: 'Me', outcome: 'CIRCUIT_OPEN' })).toBe(5)

    sim.faults.hang = false
    await sleep(1600)
    const probe = await call(fast, '/me')

    expect(probe.status).toBe(200)
    expect(sim.requests).toHaveLength(4)
    expect(metricValue(await scrape(), 'fgw_upstream_circuits_open')).toBe(0)
    expect((await call(fast, '/me')).status).toBe(200)
  })
})
