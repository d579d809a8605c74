// Operator routes end to end: typed parameters (400 before any Fluent call), paging, 404 on null, bodies, mutations refused for read-only tenants.
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { parseRoutes, readRoutesFile, type RouteEntry } from '../../src/config/routes.js'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator } from '../../src/simulator/types.js'
import { call, expectProblem, metricValue } from '../helpers/call.js'
import { ACCOUNT, LogCapture, newApiKey, testConfig } from '../helpers/gateway.js'

const TEST_ROUTES: RouteEntry[] = [
  {
    operationId: 'typedOrders',
    method: 'GET',
    path: '/x/typed/{location}',
    summary: 'Every scalar from the query string',
    document: `query TypedOrders($count: Int!, $price: Float, $flag: Boolean!, $name: String, $id: ID!, $since: DateTime, $refs: [String], $location: String!) {
      orders(ref: $refs, totalPrice: [$price], createdOn: { from: $since }, first: $count) @include(if: $flag) { edges { node { id ref } } }
      customers(primaryEmail: [$name]) { edges { node { id } } }
      locationById(id: $id) { id }
      location(ref: $location) { ref }
    }`,
    variables: { count: 'query.count', price: 'query.price', flag: 'query.flag', name: 'query.name', id: 'query.id', since: 'query.since', refs: 'query.refs', location: 'path.location' }
  },
  {
    operationId: 'createCustomerX',
    method: 'POST',
    path: '/x/customers',
    summary: 'Create a customer from a CreateCustomerInput body',
    document: 'mutation CreateCustomerX($input: CreateCustomerInput) { createCustomer(input: $input) { id username primaryEmail attributes { name value } } }',
    variables: { input: 'body' },
    result: 'createCustomer',
    status: 201
  },
  {
    operationId: 'createFulfilmentOptionX',
    method: 'POST',
    path: '/x/fulfilment-options',
    summary: 'An enum from the query string, fields of the body',
    document: `mutation CreateFulfilmentOptionX($mode: ExecutionMode, $ref: String!, $type: String!, $retailerId: Int!) {
      createFulfilmentOption(executionMode: $mode, input: { ref: $ref, type: $type, retailerId: $retailerId }) { id } }`,
    variables: { mode: 'query.mode', ref: 'body.ref', type: 'body.type', retailerId: 'tenant.retailerId' },
    result: 'createFulfilmentOption'
  }
]

describe('operator routes', () => {
  let sim: Simulator
  let app: FastifyInstance
  let url: string
  const apiKey = newApiKey()
  const readOnlyKey = newApiKey()
  const gw = (): { url: string, apiKey: string } => ({ url, apiKey })

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    const example = readRoutesFile(new URL('../../routes.example.yaml', import.meta.url).pathname) as { routes: RouteEntry[] }
    const config = testConfig(sim.url, [{ id: 'acme', apiKey }, { id: 'readonly', apiKey: readOnlyKey, allowMutations: false }],
      { REDIS_URL: inject('redisUrl'), SCHEMA_CHECK_INTERVAL_MS: '0' })
    app = await buildApp({ ...config, routes: parseRoutes({ routes: [...example.routes, ...TEST_ROUTES] }) }, { logStream: new LogCapture() })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  })
  afterAll(async () => {
    await app.close()
    await sim.close()
  })
  beforeEach(() => { sim.requests.length = 0 })

  const sent = (operationName: string): Array<{ variables: unknown }> => sim.requests.filter((request) => request.operationName === operationName)

  it('pages through a connection with limit and cursor, answering {items, nextCursor} and a Link', async () => {
    const first = await call(gw(), '/x/locations/LOC-SYD-01/stock?limit=2')
    expect(first.status).toBe(200)
    expect(first.body.items).toHaveLength(2)
    expect(first.body.items[0]).toMatchObject({ locationRef: 'LOC-SYD-01', productRef: expect.any(String), onHand: expect.any(Number) })
    expect(first.body.nextCursor).toEqual(expect.any(String))
    expect(first.headers.get('link')).toBe(`</x/locations/LOC-SYD-01/stock?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}>; rel="next"`)
    expect(sent('LocationStock')[0]?.variables).toEqual({ ref: ['LOC-SYD-01'], catalogue: 'DEFAULT:1', first: 2 })

    const second = await call(gw(), `/x/locations/LOC-SYD-01/stock?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`)
    expect(second.status).toBe(200)
    expect(second.body.items).toHaveLength(1)
    expect(second.body.nextCursor).toBeNull()
    expect(second.headers.get('link')).toBeNull()
    const refs = [...first.body.items, ...second.body.items].map((item: { productRef: string }) => item.productRef).sort()
    expect(refs).toEqual(['CAP-BLACK', 'MUG-BLUE', 'TEE-WHITE-M'])
  })

  it('answers 404 when the result is null', async () => {
    const answer = await call(gw(), '/x/locations/NO-SUCH-LOCATION/opening-hours')
    expectProblem(answer, 404, 'NOT_FOUND', '/x/locations/NO-SUCH-LOCATION/opening-hours')
    expect(sent('LocationOpeningHours')).toHaveLength(1)
  })

  it('converts every scalar and comma list from the query string and path to its GraphQL type', async () => {
    const answer = await call(gw(), '/x/typed/LOC-SYD-01?count=2&price=1.5&flag=true&name=a%40example.com&id=1&since=2026-01-01T00:00:00Z&refs=a,b,c')
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ location: { ref: 'LOC-SYD-01' } })
    expect(sent('TypedOrders')[0]?.variables).toEqual({
      count: 2, price: 1.5, flag: true, name: 'a@example.com', id: '1', since: '2026-01-01T00:00:00Z', refs: ['a', 'b', 'c'], location: 'LOC-SYD-01'
    })
    expect((await call(gw(), '/x/typed/LOC-SYD-01?count=1&flag=false&id=1&refs=x&refs=y,z')).status).toBe(200)
    expect(sent('TypedOrders')[1]?.variables).toEqual({ count: 1, flag: false, id: '1', refs: ['x', 'y', 'z'], location: 'LOC-SYD-01' })
  })

  it.each([
    ['a required Int left out', '/x/typed/L?flag=true&id=1'],
    ['an Int that is not one', '/x/typed/L?count=two&flag=true&id=1'],
    ['an Int that is a fraction', '/x/typed/L?count=1.5&flag=true&id=1'],
    ['a Float that is not one', '/x/typed/L?count=1&price=cheap&flag=true&id=1'],
    ['a Boolean that is not one', '/x/typed/L?count=1&flag=maybe&id=1'],
    ['a DateTime that is not one', '/x/typed/L?count=1&flag=true&id=1&since=yesterday'],
    ['an unknown query parameter', '/x/typed/L?count=1&flag=true&id=1&colour=red'],
    ['a page size over 100', '/x/locations/L/stock?limit=500']
  ])('answers 400 with zero Fluent calls for %s', async (_what, path) => {
    const answer = await call(gw(), path)
    expectProblem(answer, 400, 'VALIDATION_FAILED')
    expect(sim.requests).toHaveLength(0)
  })

  it('takes an input object as the JSON body, Json values included, and answers the route\'s status', async () => {
    const input = { username: 'x@example.com', primaryEmail: 'x@example.com', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' }, attributes: [{ name: 'prefs', type: 'JSON', value: { a: [1] } }] }
    const answer = await call(gw(), '/x/customers', { body: input })
    expect(answer.status).toBe(201)
    expect(answer.body).toMatchObject({ id: expect.any(String), username: 'x@example.com', attributes: [{ name: 'prefs', value: { a: [1] } }] })
    expect(sent('CreateCustomerX')[0]?.variables).toEqual({ input })
  })

  it.each([
    ['an unknown property', { primaryEmail: 'y@example.com', username: 'y', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' }, shoeSize: 9 }],
    ['a required property left out', { primaryEmail: 'y@example.com', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' } }],
    ['a nested property of the wrong type', { primaryEmail: 'y@example.com', username: 'y', timezone: 'UTC', promotionOptIn: false, retailer: { id: 1 } }],
    ['a nested unknown property', { primaryEmail: 'y@example.com', username: 'y', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1', name: 'x' } }]
  ])('refuses a body with %s: 400 and zero Fluent calls', async (_what, body) => {
    expectProblem(await call(gw(), '/x/customers', { body }), 400, 'VALIDATION_FAILED')
    expect(sim.requests).toHaveLength(0)
  })

  it('takes enums as their values and body fields as variables, and refuses a value not in the enum', async () => {
    await call(gw(), '/x/fulfilment-options?mode=AWAIT_ORCHESTRATION', { body: { ref: 'FO-1', type: 'HD' } })
    expect(sent('CreateFulfilmentOptionX')[0]?.variables).toEqual({ mode: 'AWAIT_ORCHESTRATION', ref: 'FO-1', type: 'HD', retailerId: 1 })
    sim.requests.length = 0
    expectProblem(await call(gw(), '/x/fulfilment-options?mode=WHENEVER', { body: { ref: 'FO-1', type: 'HD' } }), 400, 'VALIDATION_FAILED')
    expectProblem(await call(gw(), '/x/fulfilment-options', { body: { ref: 'FO-1' } }), 400, 'VALIDATION_FAILED')
    expect(sim.requests).toHaveLength(0)
  })

  it('refuses a mutation route with 403 for a tenant with allowMutations: false, sending nothing', async () => {
    const answer = await call(url, '/x/customers', { apiKey: readOnlyKey, body: { username: 'z', primaryEmail: 'z@example.com', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' } } })
    expectProblem(answer, 403, 'FORBIDDEN')
    expect(sim.requests).toHaveLength(0)
    // Queries stay open to it.
    expect((await call(url, '/x/locations/LOC-SYD-01/stock', { apiKey: readOnlyKey })).status).toBe(200)
  })

  it('needs an API key like every route', async () => {
    expectProblem(await call(url, '/x/locations/LOC-SYD-01/stock', { apiKey: null }), 401, 'UNAUTHENTICATED')
  })

  it('counts Fluent calls under the operationId and requests under the path pattern', async () => {
    await call(gw(), '/x/locations/LOC-MEL-01/stock')
    const metrics = (await call(url, '/metrics')).text
    expect(metricValue(metrics, 'fgw_upstream_duration_seconds_count', { operation: 'locationStock', outcome: 'ok' })).toBeGreaterThan(0)
    expect(metricValue(metrics, 'http_requests_total', { route: '/x/locations/:ref/stock', status_code: '200' })).toBeGreaterThan(0)
  })
})
