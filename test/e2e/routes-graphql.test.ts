// End-to-end tests of POST /graphql: Fluent's answer passed through as it came, and every document limit refused before Fluent is called.
import { describe, expect, inject, it } from 'vitest'
import { DOCUMENT_LIMITS } from '../../src/routes/graphql-policy.js'
import { call, type Answer } from '../helpers/call.js'
import { newApiKey, useGateway } from '../helpers/gateway.js'

describe('POST /graphql', () => {
  const readOnlyKey = newApiKey()

  async function post (body: unknown, options: { apiKey?: string, headers?: Record<string, string> } = {}): Promise<Answer> {
    return await call(gw, '/graphql', { method: 'POST', body, ...options })
  }

  const gw = useGateway(() => ({
    redisUrl: inject('redisUrl'),
    tenants: [{ id: 'acme', apiKey: newApiKey() }, { id: 'readonly', apiKey: readOnlyKey, allowMutations: false }]
  }))

  describe('passthrough', () => {
    it('answers Fluent\'s 200 body as it came, with the query, variables and operation name Fluent received', async () => {
      const query = 'query Who($n: Int) { me { id username } customers(first: $n) { edges { cursor } } }'
      const answer = await post({ query, variables: { n: 2 }, operationName: 'Who' })

      expect(answer.status).toBe(200)
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
      expect(answer.body).toEqual({ data: { me: { id: '1', username: 'acme_integration' }, customers: { edges: [] } } })
      expect(gw.sim.requests).toHaveLength(1)
      expect(gw.sim.requests[0]).toMatchObject({ query, variables: { n: 2 }, operationName: 'Who', status: 200 })
    })

    it('passes Fluent\'s errors[] back with status 200, not as a gateway error', async () => {
      const answer = await post({ query: '{ me { id notAField } }' })

      expect(answer.status).toBe(200)
      expect(answer.headers.get('content-type')).not.toMatch(/problem/)
      expect(answer.body.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('notAField') })])
      expect(answer.body).not.toHaveProperty('code')
      expect(gw.sim.counters.graphqlRequests).toBe(1)
    })

    it('passes partial data and execution errors back together', async () => {
      const answer = await post({
        query: 'mutation M($i: CreateCustomerInput) { createCustomer(input: $i) { id } }',
        variables: { i: { username: 'x', primaryEmail: 'x@example.com', timezone: 'UTC', promotionOptIn: false, retailer: { id: '404' } } }
      })

      expect(answer.status).toBe(200)
      expect(answer.body.data).toEqual({ createCustomer: null })
      expect(answer.body.errors[0]).toMatchObject({ message: expect.stringContaining('C0120E'), extensions: { code: 'C0120E' } })
    })

    it('runs mutations for a tenant that allows them', async () => {
      const answer = await post({
        query: 'mutation M($i: CreateCustomerInput) { createCustomer(input: $i) { id username } }',
        variables: { i: { username: 'gql', primaryEmail: 'gql@example.com', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' } } }
      })

      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({ data: { createCustomer: { id: expect.any(String), username: 'gql' } } })
    })

    it('runs queries for a read-only tenant', async () => {
      const answer = await post({ query: '{ me { id } }' }, { apiKey: readOnlyKey })

      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({ data: { me: { id: '1' } } })
    })

    it('forwards the caller\'s request id to Fluent and echoes it', async () => {
      const answer = await post({ query: '{ me { id } }' }, { headers: { 'x-request-id': 'pos-7' } })

      expect(answer.headers.get('x-request-id')).toBe('pos-7')
      expect(gw.sim.requests[0]?.headers['x-request-id']).toBe('pos-7')
    })
  })

  describe('limits, each refused with zero upstream calls', () => {
    const nested = (depth: number): string => `{ ${'a { '.repeat(depth - 1)}b${' }'.repeat(depth - 1)} }`
    const cases: Array<[string, () => { body: unknown, apiKey?: string }, number, string, string]> = [
      ['a document over 100 KB', () => ({ body: { query: `{ me { id } }\n#${'x'.repeat(DOCUMENT_LIMITS.maxBytes)}` } }), 413, 'PAYLOAD_TOO_LARGE', '100 KB'],
      ['a document that does not parse', () => ({ body: { query: 'query { me { id ' } }), 400, 'VALIDATION_FAILED', 'does not parse'],
      ['two operations without operationName', () => ({ body: { query: 'query A { me { id } } query B { me { ref } }' } }), 400, 'VALIDATION_FAILED', 'operationName'],
      ['an operationName the document lacks', () => ({ body: { query: 'query A { me { id } }', operationName: 'B' } }), 400, 'VALIDATION_FAILED', "'B'"],
      ['a batched array', () => ({ body: [{ query: '{ me { id } }' }, { query: '{ me { ref } }' }] }), 400, 'VALIDATION_FAILED', 'object'],
      ['a body without query', () => ({ body: { variables: {} } }), 400, 'VALIDATION_FAILED', 'query'],
      ['a mutation for a read-only tenant', () => ({ body: { query: 'mutation { createCustomer(input: null) { id } }' }, apiKey: readOnlyKey }), 403, 'FORBIDDEN', 'mutations'],
      ['a read-only tenant\'s document whose unselected second operation is a mutation', () => ({
        body: { query: 'query A { me { id } } mutation B { createCustomer(input: null) { id } }', operationName: 'A' }, apiKey: readOnlyKey
      }), 403, 'FORBIDDEN', 'mutations'],
      ['nesting deeper than the limit', () => ({ body: { query: nested(DOCUMENT_LIMITS.maxDepth + 1) } }), 400, 'VALIDATION_FAILED', 'deep'],
      ['more aliases than the limit', () => ({
        body: { query: `{ ${Array.from({ length: DOCUMENT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { id }`).join(' ')} }` }
      }), 400, 'VALIDATION_FAILED', 'aliases'],
      ['aliases multiplied by fragment spreads beyond the limit', () => ({
        body: { query: `{ ${Array.from({ length: 15 }, (_, i) => `s${i}: me { ...F }`).join(' ')} } fragment F on User { ${Array.from({ length: 15 }, (_, i) => `a${i}: id`).join(' ')} }` }
      }), 400, 'VALIDATION_FAILED', '240 aliases'],
      ['more tokens than the limit', () => ({ body: { query: `{ me { ${'id '.repeat(DOCUMENT_LIMITS.maxTokens)}} }` } }), 400, 'VALIDATION_FAILED', 'tokens'],
      ['a subscription', () => ({ body: { query: 'subscription { me { id } }' } }), 400, 'VALIDATION_FAILED', 'subscription']
    ]

    it.each(cases)('refuses %s', async (_what, make, status, code, detail) => {
      const { body, apiKey } = make()
      const answer = await post(body, { apiKey })

      expect(answer.status).toBe(status)
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(answer.body).toMatchObject({ status, code, instance: '/graphql', requestId: answer.headers.get('x-request-id') })
      expect(answer.body.detail).toContain(detail)
      expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
    })

    it('accepts a document exactly at the depth and alias limits', async () => {
      const aliases = Array.from({ length: DOCUMENT_LIMITS.maxAliases }, (_, i) => `a${i}: me { id }`).join(' ')
      const answer = await post({ query: `{ ${aliases} }` })

      expect(answer.status).toBe(200)
      expect(Object.keys(answer.body.data)).toHaveLength(DOCUMENT_LIMITS.maxAliases)
      expect(gw.sim.counters.graphqlRequests).toBe(1)
    })

    it('counts depth through fragments', async () => {
      const fragment = `fragment Deep on Query ${nested(DOCUMENT_LIMITS.maxDepth)}`
      const answer = await post({ query: `{ x { ...Deep } } ${fragment}` })

      expect(answer.status).toBe(400)
      expect(answer.body.detail).toContain('deep')
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })
  })
})
