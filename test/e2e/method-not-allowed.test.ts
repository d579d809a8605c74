// A known path with a method it lacks is 405 METHOD_NOT_ALLOWED with Allow, for every route; an unknown path stays 404.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { call, expectProblem } from '../helpers/call.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

describe('a method the path lacks', () => {
  let gw: TestGateway

  beforeAll(async () => { gw = await startGateway({ redisUrl: inject('redisUrl') }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.sim.reset() })

  it.each([
    ['PUT', '/customers', 'GET, POST'],
    ['DELETE', '/customers', 'GET, POST'],
    ['OPTIONS', '/customers', 'GET, POST'],
    ['PATCH', '/customers/1001', 'GET'],
    ['DELETE', '/me', 'GET'],
    ['POST', '/me', 'GET'],
    ['GET', '/graphql', 'POST'],
    ['POST', '/healthz', 'GET'],
    ['DELETE', '/metrics', 'GET']
  ])('answers %s %s with 405 METHOD_NOT_ALLOWED and Allow: %s, calling nobody', async (method, path, allow) => {
    const answer = await call(gw, path, { method })

    expectProblem(answer, 405, 'METHOD_NOT_ALLOWED', path)
    expect(answer.headers.get('allow')).toBe(allow)
    expect(answer.body.detail).toContain(method)
    expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
  })

  it('answers HEAD on a GET route with 405 and Allow, without a body, since HEAD is not served', async () => {
    const answer = await call(gw, '/customers', { method: 'HEAD' })

    expect(answer.status).toBe(405)
    expect(answer.headers.get('allow')).toBe('GET, POST')
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(gw.sim.counters.graphqlRequests).toBe(0)
  })

  it.each([
    ['an unknown path', 'GET', '/no-such-route'],
    ['an unknown path with an unknown method', 'DELETE', '/nowhere'],
    ['a path below a known one', 'PUT', '/customers/1001/orders']
  ])('keeps answering %s with 404 NOT_FOUND', async (_what, method, path) => {
    const answer = await call(gw, path, { method })

    expectProblem(answer, 404, 'NOT_FOUND', path)
    expect(answer.headers.get('allow')).toBeNull()
  })
})
