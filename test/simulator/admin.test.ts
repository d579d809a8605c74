// Tests of the simulator's HTTP admin routes (/_sim/...), used by out-of-process callers such as the demo and benchmarks.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { admin, createCustomerMutation, customerInput, demoForm, getToken, graphql, postToken } from './http.js'

describe('simulator admin routes', () => {
  let sim: Simulator

  beforeAll(async () => { sim = await startSimulator({ tokenTtlSeconds: 3600 }) })
  afterAll(async () => { await sim.close() })
  beforeEach(() => { sim.reset() })

  it('GET /_sim/state reports the counters and faults', async () => {
    const token = await getToken(sim)
    await graphql(sim, token, '{ me { id } }')
    await graphql(sim, 'unknown', '{ me { id } }')

    const state = await admin(sim, 'GET', '/_sim/state')
    expect(state.status).toBe(200)
    expect(state.body).toEqual({
      counters: {
        tokenRequests: 1, graphqlRequests: 2, expiredTokenRequests: 0, unauthorizedRequests: 1, eventRequests: 0, jobRequests: 0, batchRequests: 0, restReads: 0
      },
      faults: {
        tokenDelayMs: 0,
        graphqlDelayMs: 0,
        hang: false,
        badCredentials: false,
        tokenTtlSeconds: 3600,
        issueRefreshToken: false,
        graphqlFailures: [],
        removedFields: [],
        commitThenFail: null,
        restFailures: [],
        restDelayMs: 0,
        jobStepMs: 100
      }
    })
  })

  it('PATCH /_sim/faults merges the given switches and leaves the others', async () => {
    sim.faults.graphqlDelayMs = 5
    const patched = await admin(sim, 'PATCH', '/_sim/faults', { badCredentials: true, graphqlFailures: [{ status: 502, times: 2 }] })

    expect(patched.status).toBe(200)
    expect(patched.body.faults).toMatchObject({ badCredentials: true, graphqlDelayMs: 5, graphqlFailures: [{ status: 502, times: 2 }] })
    expect(sim.faults.badCredentials).toBe(true)
    expect((await postToken(sim, demoForm)).status).toBe(400)
    expect((await graphql(sim, 'any', '{ me { id } }')).status).toBe(502)
  })

  it.each([
    [{ hang: 'yes' }, 'hang must be a boolean'],
    [{ tokenDelayMs: -1 }, 'tokenDelayMs must be a non-negative number'],
    [{ graphqlFailures: [{ status: 99 }] }, 'graphqlFailures[0].status must be an HTTP status'],
    [{ sleepy: true }, 'unknown fault: sleepy']
  ])('PATCH /_sim/faults refuses %j with 400 and changes nothing', async (patch, problem) => {
    const answer = await admin(sim, 'PATCH', '/_sim/faults', { badCredentials: true, ...patch })
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({ error: problem })
    expect(sim.faults.badCredentials).toBe(false)
  })

  it('POST /_sim/revoke makes every issued access token answer 401', async () => {
    sim.revokeTokens()
    const first = await getToken(sim)
    const second = await getToken(sim)
    const answer = await admin(sim, 'POST', '/_sim/revoke')
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ revoked: 2 })

    expect((await graphql(sim, first, '{ me { id } }')).status).toBe(401)
    expect((await graphql(sim, second, '{ me { id } }')).status).toBe(401)
  })

  it('POST /_sim/reset clears faults, counters and records, reseeds the store, and keeps tokens valid', async () => {
    const token = await getToken(sim)
    await graphql(sim, token, createCustomerMutation, { input: customerInput('kept@example.com') })
    sim.faults.hang = true
    sim.faults.tokenTtlSeconds = 5

    const answer = await admin(sim, 'POST', '/_sim/reset')
    expect(answer.status).toBe(200)
    expect(answer.body.counters).toEqual({
      tokenRequests: 0, graphqlRequests: 0, expiredTokenRequests: 0, unauthorizedRequests: 0, eventRequests: 0, jobRequests: 0, batchRequests: 0, restReads: 0
    })
    expect(answer.body.faults).toMatchObject({ hang: false, tokenTtlSeconds: 3600 })
    expect(sim.requests).toEqual([])
    expect(sim.tokenRequests).toEqual([])

    const lookup = await graphql(sim, token, '{ customerById(id: "1001") { id } }')
    expect(lookup.status).toBe(200)
    expect(lookup.body.data.customerById).toBeNull()
    const again = await graphql(sim, token, createCustomerMutation, { input: customerInput('kept@example.com') })
    expect(again.body.data.createCustomer.id).toBe('1001')
  })

  it('answers 404 for an unknown admin route and 405 for GET /graphql', async () => {
    expect((await admin(sim, 'GET', '/_sim/nothing')).status).toBe(404)
    const wrongMethod = await admin(sim, 'GET', '/graphql')
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('POST')
  })
})
