// Tests of the simulator's GraphQL endpoint: auth, validation, the customer and product operations, records and faults.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { createCustomerMutation, customerInput, getToken, graphql, postGraphql } from './http.js'

const cursorOf = (id: string): string => Buffer.from(`cursor:${id}`).toString('base64')

const customersQuery = `
  query Customers($emails: [String], $first: Int, $after: String, $last: Int, $before: String) {
    customers(primaryEmail: $emails, first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node { id primaryEmail } }
      pageInfo { hasNextPage hasPreviousPage }
    }
  }`

const createProductMutation = `
  mutation CreateProduct($input: CreateStandardProductInput) {
    createStandardProduct(input: $input) {
      id ref type status gtin name summary workflowRef workflowVersion
      prices { type currency value }
      attributes { name type value }
      tax { country group tariff }
      catalogue { ref }
    }
  }`

describe('simulator GraphQL endpoint', () => {
  let sim: Simulator
  let token: string

  beforeAll(async () => {
    sim = await startSimulator()
    token = await getToken(sim)
  })
  afterAll(async () => { await sim.close() })
  beforeEach(() => { sim.reset() })

  describe('authentication', () => {
    it('answers 401 without an Authorization header and counts it', async () => {
      const answer = await postGraphql(sim, undefined, { query: '{ me { id } }' })
      expect(answer.status).toBe(401)
      expect(answer.body).toEqual({ errors: [{ code: '401', message: 'Unauthorized' }] })
      expect(sim.counters).toMatchObject({ graphqlRequests: 1, unauthorizedRequests: 1, expiredTokenRequests: 0 })
    })

    it('answers 401 for a token it never issued', async () => {
      const answer = await postGraphql(sim, 'f'.repeat(64), { query: '{ me { id } }' })
      expect(answer.status).toBe(401)
      expect(sim.counters.unauthorizedRequests).toBe(1)
    })

    it('answers 401 for a token issued before revokeTokens, and accepts a new one', async () => {
      const old = await getToken(sim)
      sim.revokeTokens()
      expect((await graphql(sim, old, '{ me { id } }')).status).toBe(401)
      const fresh = await getToken(sim)
      expect((await graphql(sim, fresh, '{ me { id } }')).status).toBe(200)
      token = fresh
    })

    it('answers 401 for an expired token and counts it as expired', async () => {
      const shortLived = await startSimulator({ tokenTtlSeconds: 1 })
      try {
        const expiring = await getToken(shortLived)
        expect((await graphql(shortLived, expiring, '{ me { id } }')).status).toBe(200)
        await new Promise((resolve) => setTimeout(resolve, 1100))

        const answer = await graphql(shortLived, expiring, '{ me { id } }')
        expect(answer.status).toBe(401)
        expect(answer.body).toEqual({ errors: [{ code: '401', message: 'Unauthorized' }] })
        expect(shortLived.counters).toMatchObject({ graphqlRequests: 2, expiredTokenRequests: 1, unauthorizedRequests: 1 })
      } finally {
        await shortLived.close()
      }
    })
  })

  describe('documents', () => {
    it('answers 200 with errors and locations, and no data, for a field the schema lacks', async () => {
      const answer = await graphql(sim, token, '{ me { id nickname } }')
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({
        errors: [{
          message: expect.stringMatching(/^Cannot query field "nickname" on type "User"\./),
          locations: [{ line: 1, column: 11 }]
        }]
      })
    })

    it('rejects endCursor on PageInfo, which Fluent does not have', async () => {
      const answer = await graphql(sim, token, '{ customers { pageInfo { endCursor } } }')
      expect(answer.body.errors[0].message).toContain('endCursor')
      expect(answer.body.data).toBeUndefined()
    })

    it('answers 200 with a syntax error for a document that does not parse', async () => {
      const answer = await graphql(sim, token, '{ me { id ')
      expect(answer.status).toBe(200)
      expect(answer.body.errors[0].message).toMatch(/^Syntax Error/)
      expect(answer.body.errors[0].locations).toEqual([{ line: 1, column: 11 }])
    })

    it('answers 400 Invalid JSON for a body that is not JSON', async () => {
      const answer = await postGraphql(sim, token, '{"query": ')
      expect(answer.status).toBe(400)
      expect(answer.body).toEqual({ errors: [{ message: 'Invalid JSON' }] })
    })

    it('answers 400 when the body has no query string', async () => {
      const answer = await postGraphql(sim, token, { variables: {} })
      expect(answer.status).toBe(400)
      expect(answer.body).toEqual({ errors: [{ message: 'Must provide query string.' }] })
    })

    it('answers 413 for a body over 2 MB, even without a token', async () => {
      const answer = await postGraphql(sim, undefined, { query: '{ me { id } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } })
      expect(answer.status).toBe(413)
      expect(sim.requests[0]?.status).toBe(413)
    })

    it('needs operationName to pick one of several operations', async () => {
      const document = 'query A { me { id } } query B { me { username } }'
      const ambiguous = await postGraphql(sim, token, { query: document })
      expect(ambiguous.body.errors[0].message).toContain('operation name')
      const picked = await postGraphql(sim, token, { query: document, operationName: 'B' })
      expect(picked.body).toEqual({ data: { me: { username: 'demo_integration' } } })
    })
  })

  it('answers me with the token account user and its primary retailer', async () => {
    const answer = await graphql(sim, token, `{ me {
      id ref username firstName lastName primaryEmail type status timezone primaryRetailer { id ref tradingName }
    } }`)
    expect(answer.body).toEqual({
      data: {
        me: {
          id: '1',
          ref: 'demo_integration',
          username: 'demo_integration',
          firstName: 'Demo',
          lastName: 'Integration',
          primaryEmail: 'demo_integration@example.com',
          type: 'ADMIN',
          status: 'ACTIVE',
          timezone: 'UTC',
          primaryRetailer: { id: '1', ref: 'DEMO-RETAILER', tradingName: 'Demo Retailer' }
        }
      }
    })
  })

  describe('customers', () => {
    it('creates a customer with every field and attribute given, then finds it by id and by ref', async () => {
      const input = customerInput('ada@example.com', {
        firstName: 'Ada',
        lastName: 'Lovelace',
        timezone: 'Europe/London',
        promotionOptIn: true,
        attributes: [{ name: 'loyaltyTier', type: 'STRING', value: 'GOLD' }, { name: 'prefs', type: 'JSON', value: { sms: false } }]
      })
      const created = await graphql(sim, token, createCustomerMutation, { input })
      expect(created.status).toBe(200)
      expect(created.body.errors).toBeUndefined()
      expect(created.body.data.createCustomer).toEqual({
        id: '1001',
        ref: 'ada@example.com',
        status: 'ACTIVE',
        username: 'ada@example.com',
        primaryEmail: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        timezone: 'Europe/London',
        promotionOptIn: true,
        createdOn: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        attributes: [{ name: 'loyaltyTier', type: 'STRING', value: 'GOLD' }, { name: 'prefs', type: 'JSON', value: { sms: false } }],
        retailer: { id: '1', ref: 'DEMO-RETAILER' }
      })

      const byId = await graphql(sim, token, 'query ($id: ID!) { customerById(id: $id) { id lastName attributes { name value } } }', { id: '1001' })
      expect(byId.body.data.customerById).toEqual({
        id: '1001', lastName: 'Lovelace', attributes: [{ name: 'loyaltyTier', value: 'GOLD' }, { name: 'prefs', value: { sms: false } }]
      })
      const byRef = await graphql(sim, token, '{ customer(ref: "ada@example.com") { id } }')
      expect(byRef.body.data.customer).toEqual({ id: '1001' })
    })

    it('answers null for an unknown customer id', async () => {
      const answer = await graphql(sim, token, '{ customerById(id: "999") { id } }')
      expect(answer.body).toEqual({ data: { customerById: null } })
    })

    it('numbers customers from 1001 upwards', async () => {
      const ids = []
      for (const name of ['a', 'b', 'c']) {
        const answer = await graphql(sim, token, createCustomerMutation, { input: customerInput(`${name}@example.com`) })
        ids.push(answer.body.data.createCustomer.id)
      }
      expect(ids).toEqual(['1001', '1002', '1003'])
    })

    it('answers a duplicate username with C0123E and a null customer', async () => {
      await graphql(sim, token, createCustomerMutation, { input: customerInput('dup@example.com') })
      const answer = await graphql(sim, token, createCustomerMutation, { input: customerInput('dup@example.com') })

      expect(answer.status).toBe(200)
      expect(answer.body.data).toEqual({ createCustomer: null })
      expect(answer.body.errors).toHaveLength(1)
      expect(answer.body.errors[0]).toMatchObject({
        message: "C0123E Unique constraint violation: a customer with username 'dup@example.com' already exists",
        extensions: { code: 'C0123E' },
        path: ['createCustomer']
      })
    })

    it('answers an unknown retailer with C0120E', async () => {
      const answer = await graphql(sim, token, createCustomerMutation, { input: customerInput('x@example.com', { retailer: { id: '42' } }) })
      expect(answer.body.data).toEqual({ createCustomer: null })
      expect(answer.body.errors[0]).toMatchObject({ message: 'C0120E Retailer not found', extensions: { code: 'C0120E' } })
    })

    it('rejects an input that lacks a required field before running the mutation', async () => {
      const { timezone: _timezone, ...withoutTimezone } = customerInput('tz@example.com')
      const answer = await graphql(sim, token, createCustomerMutation, { input: withoutTimezone })
      expect(answer.body.errors[0].message).toContain('timezone')
      expect(answer.body.data).toBeUndefined()
      const listed = await graphql(sim, token, customersQuery)
      expect(listed.body.data.customers.edges).toEqual([])
    })

    describe('paging', () => {
      beforeEach(async () => {
        for (const name of ['a', 'b', 'c', 'd', 'e']) {
          await graphql(sim, token, createCustomerMutation, { input: customerInput(`${name}@example.com`) })
        }
      })

      it('walks every customer two at a time through edge cursors', async () => {
        const first = await graphql(sim, token, customersQuery, { first: 2 })
        expect(first.body.data.customers).toEqual({
          edges: [
            { cursor: 'Y3Vyc29yOjEwMDE=', node: { id: '1001', primaryEmail: 'a@example.com' } },
            { cursor: 'Y3Vyc29yOjEwMDI=', node: { id: '1002', primaryEmail: 'b@example.com' } }
          ],
          pageInfo: { hasNextPage: true, hasPreviousPage: false }
        })

        const second = await graphql(sim, token, customersQuery, { first: 2, after: first.body.data.customers.edges[1].cursor })
        expect(second.body.data.customers.edges.map((edge: any) => edge.node.id)).toEqual(['1003', '1004'])
        expect(second.body.data.customers.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true })

        const third = await graphql(sim, token, customersQuery, { first: 2, after: cursorOf('1004') })
        expect(third.body.data.customers.edges.map((edge: any) => edge.node.id)).toEqual(['1005'])
        expect(third.body.data.customers.pageInfo.hasNextPage).toBe(false)
      })

      it('filters by primaryEmail', async () => {
        const answer = await graphql(sim, token, customersQuery, { emails: ['e@example.com', 'b@example.com', 'z@example.com'] })
        expect(answer.body.data.customers.edges.map((edge: any) => edge.node.id)).toEqual(['1002', '1005'])
        expect(answer.body.data.customers.pageInfo.hasNextPage).toBe(false)
      })

      it('pages backwards with last and before', async () => {
        const answer = await graphql(sim, token, customersQuery, { last: 2, before: cursorOf('1005') })
        expect(answer.body.data.customers.edges.map((edge: any) => edge.node.id)).toEqual(['1003', '1004'])
        expect(answer.body.data.customers.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true })
      })

      it('answers a cursor it did not issue with C0100E', async () => {
        const answer = await graphql(sim, token, customersQuery, { after: 'not-a-cursor' })
        expect(answer.body.data).toEqual({ customers: null })
        expect(answer.body.errors[0].extensions).toEqual({ code: 'C0100E' })
      })
    })
  })

  describe('products', () => {
    const productInput = {
      ref: 'SKU-1',
      catalogue: { ref: 'PC:MASTER:1' },
      type: 'STANDARD',
      gtin: '9300000000001',
      name: 'Blue mug',
      summary: 'A mug, blue',
      prices: [{ type: 'RRP', currency: 'AUD', value: 12.5 }],
      attributes: [{ name: 'colour', type: 'STRING', value: 'blue' }],
      taxType: { country: 'AU', group: 'STANDARD', tariff: 'GST' }
    }

    it('creates a standard product in CREATED status and finds it by ref and catalogue', async () => {
      const created = await graphql(sim, token, createProductMutation, { input: productInput })
      expect(created.body).toEqual({
        data: {
          createStandardProduct: {
            id: '1001',
            ref: 'SKU-1',
            type: 'STANDARD',
            status: 'CREATED',
            gtin: '9300000000001',
            name: 'Blue mug',
            summary: 'A mug, blue',
            workflowRef: 'PRODUCT::STANDARD',
            workflowVersion: 1,
            prices: [{ type: 'RRP', currency: 'AUD', value: 12.5 }],
            attributes: [{ name: 'colour', type: 'STRING', value: 'blue' }],
            tax: { country: 'AU', group: 'STANDARD', tariff: 'GST' },
            catalogue: { ref: 'PC:MASTER:1' }
          }
        }
      })
      const found = await graphql(sim, token, '{ standardProduct(ref: "SKU-1", catalogue: { ref: "PC:MASTER:1" }) { id name } }')
      expect(found.body.data.standardProduct).toEqual({ id: '1001', name: 'Blue mug' })
    })

    it('answers a duplicate ref in the same catalogue with C0121E', async () => {
      await graphql(sim, token, createProductMutation, { input: productInput })
      const answer = await graphql(sim, token, createProductMutation, { input: productInput })
      expect(answer.body.data).toEqual({ createStandardProduct: null })
      expect(answer.body.errors[0].extensions).toEqual({ code: 'C0121E' })
      expect(answer.body.errors[0].message).toMatch(/^C0121E .*already exists/)
    })

    it('answers an unknown catalogue with C0120E', async () => {
      const answer = await graphql(sim, token, createProductMutation, { input: { ...productInput, catalogue: { ref: 'PC:NOPE' } } })
      expect(answer.body.data).toEqual({ createStandardProduct: null })
      expect(answer.body.errors[0]).toMatchObject({ message: 'C0120E ProductCatalogue not found', extensions: { code: 'C0120E' } })
    })
  })

  it('records every request with its document, variables, operation name, lower-cased headers and status', async () => {
    await postGraphql(sim, token, { query: 'query Me { me { id } }', variables: { a: 1 }, operationName: 'Me' }, { 'X-Request-Id': 'req-42' })
    await postGraphql(sim, undefined, { query: '{ me { id } }' })

    expect(sim.counters.graphqlRequests).toBe(2)
    expect(sim.requests).toHaveLength(2)
    expect(sim.requests[0]).toMatchObject({
      query: 'query Me { me { id } }',
      variables: { a: 1 },
      operationName: 'Me',
      status: 200,
      at: expect.any(Number)
    })
    expect(sim.requests[0]?.headers['x-request-id']).toBe('req-42')
    expect(sim.requests[0]?.headers.authorization).toBe(`Bearer ${token}`)
    expect(sim.requests[1]).toMatchObject({ query: '{ me { id } }', status: 401 })
  })

  describe('faults', () => {
    it('answers the head of the failure queue once, before checking the token, then runs normally', async () => {
      sim.faults.graphqlFailures.push({ status: 503 })

      const failed = await postGraphql(sim, undefined, { query: '{ me { id } }' })
      expect(failed.status).toBe(503)
      expect(failed.body).toEqual({ errors: [{ message: 'Simulated HTTP 503' }] })
      expect(sim.faults.graphqlFailures).toEqual([])

      const normal = await graphql(sim, token, '{ me { id } }')
      expect(normal.status).toBe(200)
      expect(normal.body).toEqual({ data: { me: { id: '1' } } })
      expect(sim.requests.map((record) => record.status)).toEqual([503, 200])
    })

    it('repeats a failure `times` times with its headers and body', async () => {
      sim.faults.graphqlFailures.push({ status: 429, headers: { 'Retry-After': '1' }, body: 'slow down', times: 2 })

      for (let attempt = 0; attempt < 2; attempt++) {
        const response = await fetch(`${sim.url}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ me { id } }' })
        })
        expect(response.status).toBe(429)
        expect(response.headers.get('retry-after')).toBe('1')
        expect(response.headers.get('content-type')).toContain('text/plain')
        expect(await response.text()).toBe('slow down')
      }
      expect((await graphql(sim, token, '{ me { id } }')).status).toBe(200)
    })

    it('waits graphqlDelayMs before answering', async () => {
      sim.faults.graphqlDelayMs = 300
      const started = Date.now()
      expect((await graphql(sim, token, '{ me { id } }')).status).toBe(200)
      expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    })
  })
})

describe('simulator close', () => {
  it('closes promptly while a request hangs, and the hung request fails', async () => {
    const sim = await startSimulator()
    const token = await getToken(sim)
    sim.faults.hang = true
    const hung = graphql(sim, token, '{ me { id } }')
    const outcome = hung.then(() => 'answered', () => 'failed')
    while (sim.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(sim.requests[0]?.status).toBe(0)

    const started = Date.now()
    await sim.close()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await outcome).toBe('failed')
  })

  it('closes promptly while a token request is delayed', async () => {
    const sim = await startSimulator()
    sim.faults.tokenDelayMs = 60_000
    const pending = getToken(sim).then(() => 'answered', () => 'failed')
    while (sim.counters.tokenRequests === 0) await new Promise((resolve) => setTimeout(resolve, 10))

    const started = Date.now()
    await sim.close()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(await pending).toBe('failed')
  })
})
