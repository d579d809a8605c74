// Fluent answers 200 without a field our response schema requires: that is Fluent's broken answer, a 502, on every route.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { call, expectProblem } from '../helpers/call.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

describe('an upstream answer missing a required field', () => {
  let gw: TestGateway

  beforeAll(async () => { gw = await startGateway({ redisUrl: inject('redisUrl') }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.sim.reset() })

  const answerWith = (data: unknown): void => {
    gw.sim.faults.graphqlFailures.push({ status: 200, body: JSON.stringify({ data }), times: 1 })
  }

  it('answers GET /me 502 UPSTREAM_UNAVAILABLE naming the missing field when `me` has no ref', async () => {
    answerWith({ me: { id: '5', username: 'acme_integration', type: 'ADMIN' } })
    const answer = await call(gw, '/me')

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE', '/me')
    expect(answer.body.detail).toMatch(/\bref\b/)
    expect(answer.body.detail).toMatch(/Fluent/)
  })

  it('answers GET /customers/{id} 502 UPSTREAM_UNAVAILABLE when the customer has no id', async () => {
    answerWith({ customerById: { username: 'jane', primaryEmail: 'jane@example.com' } })
    const answer = await call(gw, '/customers/1001')

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE', '/customers/1001')
    expect(answer.body.detail).toMatch(/\bid\b/)
  })
})
