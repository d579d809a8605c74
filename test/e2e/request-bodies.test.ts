// Request bodies over real HTTP: JSON in UTF-8 only (415 otherwise), and bodies nested too deep refused before JSON.parse.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { MAX_JSON_DEPTH } from '../../src/plugins/body-parser.js'
import { call, expectProblem } from '../helpers/call.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

/** `depth` arrays, one inside the next: `[[[1]]]` is depth 3. */
function arrays (depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`
}

const customer = { email: 'zoe@example.com', firstName: 'Zoë' }

describe('request bodies', () => {
  let gw: TestGateway

  beforeAll(async () => { gw = await startGateway({ redisUrl: inject('redisUrl') }) })
  afterAll(async () => { await gw.close() })
  beforeEach(() => { gw.sim.reset() })

  const json = (body: string, contentType = 'application/json'): { body: string, headers: Record<string, string> } =>
    ({ body, headers: { 'content-type': contentType } })

  describe('nested deeper than the limit', () => {
    it.each([
      ['an attribute value 10,000 arrays deep', '/customers',
        `{"email":"a@example.com","firstName":"A","attributes":[{"name":"n","type":"JSON","value":${arrays(10_000)}}]}`],
      ['/graphql variables 10,000 arrays deep', '/graphql', `{"query":"{ me { id } }","variables":{"v":${arrays(10_000)}}}`],
      ['a body of 900 KB of nested objects', '/graphql', `{"query":"{ me { id } }","variables":${'{"a":'.repeat(150_000)}1${'}'.repeat(150_000)}}`],
      ['a body one level past the limit', '/graphql', `{"query":"{ me { id } }","variables":{"v":${arrays(MAX_JSON_DEPTH - 1)}}}`]
    ])('answers 400 VALIDATION_FAILED for %s, calling nobody', async (_what, path, body) => {
      const answer = await call(gw, path, { method: 'POST', ...json(body) })

      expectProblem(answer, 400, 'VALIDATION_FAILED', path)
      expect(answer.body.detail).toContain(`${MAX_JSON_DEPTH} levels`)
      expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
    })

    it('accepts a body nested exactly to the limit, and brackets inside strings, escaped quotes included', async () => {
      const atLimit = await call(gw, '/graphql', { method: 'POST', ...json(`{"query":"{ me { id } }","variables":{"v":${arrays(MAX_JSON_DEPTH - 2)}}}`) })
      expect(atLimit.status).toBe(200)

      const text = `\\"${'['.repeat(500)}`
      const inStrings = await call(gw, '/graphql', { method: 'POST', ...json(`{"query":"{ me { id } }","variables":{"s":"${text}","t":"\\\\"}}`) })
      expect(inStrings.status).toBe(200)
      expect(gw.sim.requests[1]?.variables).toEqual({ s: `"${'['.repeat(500)}`, t: '\\' })
    })
  })

  it('keeps refusing malformed JSON, an empty body and a __proto__ key with 400', async () => {
    for (const body of ['{"email": ', '', '{"__proto__":{"admin":true},"email":"a@example.com","firstName":"A"}']) {
      expectProblem(await call(gw, '/customers', { method: 'POST', ...json(body) }), 400, 'VALIDATION_FAILED', '/customers')
    }
    expect(gw.sim.counters.graphqlRequests).toBe(0)
  })

  describe('media types', () => {
    it.each([
      ['text/plain', 'text/plain'],
      ['text/plain with a charset', 'text/plain; charset=utf-8'],
      ['JSON in latin1', 'application/json; charset=latin1'],
      ['JSON in a quoted, upper-case ISO-8859-1', 'application/json; charset="ISO-8859-1"'],
      ['JSON in UTF-16', 'application/json;charset=UTF-16'],
      ['a vendor JSON type', 'application/vnd.acme+json']
    ])('answers 415 UNSUPPORTED_MEDIA_TYPE for %s, calling nobody', async (_what, contentType) => {
      const answer = await call(gw, '/customers', { method: 'POST', ...json(JSON.stringify(customer), contentType) })

      expectProblem(answer, 415, 'UNSUPPORTED_MEDIA_TYPE', '/customers')
      expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
    })

    it.each([
      ['no charset', 'application/json'],
      ['charset=UTF-8', 'application/json; charset=UTF-8'],
      ['a quoted charset', 'application/json; charset="utf-8"']
    ])('stores "Zoë" as it was sent in JSON with %s', async (_what, contentType) => {
      const answer = await call(gw, '/customers', { method: 'POST', ...json(JSON.stringify({ ...customer, email: `zoe.${Math.random()}@example.com` }), contentType) })

      expect(answer.status).toBe(201)
      expect(answer.body.firstName).toBe('Zoë')
    })
  })
})
