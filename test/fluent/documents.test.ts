// Every GraphQL document the gateway sends, and the variables its routes build, validate against Fluent's real schema (the project's 23.10 snapshot).
import {
  getVariableValues, Kind, parse, validate, type GraphQLSchema, type OperationDefinitionNode
} from 'graphql'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { Tenant } from '../../src/config/tenants.js'
import { CREATE_CUSTOMER } from '../../src/fluent/customers.js'
import { BUILT_IN_DOCUMENTS, builtInDocuments } from '../../src/fluent/documents.js'
import { fluentSchema } from '../../src/fluent/schema.js'
import { CREATE_ORDER } from '../../src/fluent/orders.js'
import { CREATE_STANDARD_PRODUCT } from '../../src/fluent/products.js'
import { toCreateCustomerInput } from '../../src/routes/customers.js'
import { toCreateOrderInput } from '../../src/routes/orders.js'
import { toCreateProductInput } from '../../src/routes/products.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'

// Every built-in document, from the one list routes:check and the live schema check use (src/fluent/documents.ts).
const DOCUMENTS = BUILT_IN_DOCUMENTS

const tenant: Tenant = {
  id: 'acme',
  apiKeyDigests: [],
  fluent: { baseUrl: 'https://acme.example', clientId: 'C', clientSecret: 'S', username: 'u', password: 'p', retailerId: '1', catalogueRef: 'PC:MASTER:1' },
  graphql: { allowMutations: true }
}

function operationOf (query: string): OperationDefinitionNode {
  const operation = parse(query).definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION)
  if (operation === undefined) throw new Error('no operation')
  return operation
}

/** The messages graphql-js gives when coercing `variables` for the document's operation; empty when they fit the schema. */
function variableErrors (schema: GraphQLSchema, query: string, variables: Record<string, unknown>): string[] {
  const result = getVariableValues(schema, operationOf(query).variableDefinitions ?? [], variables)
  return 'errors' in result ? (result.errors ?? []).map((error) => error.message) : []
}

// The snapshot (schema/fluent.graphql) is held equal to Fluent's introspection by test/fluent/schema.test.ts.
describe('GraphQL documents against Fluent\'s real schema', () => {
  const schema: GraphQLSchema = fluentSchema()

  it.each(Object.entries(DOCUMENTS))('%s validates', (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([])
  })

  it('names each built-in document by its own operationName, no two alike', () => {
    const names = builtInDocuments().map((document) => document.name)
    expect(names.every((name) => /^[A-Z][A-Za-z0-9]*$/.test(name))).toBe(true)
    expect(new Set(names).size).toBe(names.length)
  })

  it('accepts the variables the customer mapper builds, from the smallest body to the fullest', () => {
    const smallest = toCreateCustomerInput({ email: 'a@example.com', firstName: 'A' }, tenant)
    const fullest = toCreateCustomerInput({
      email: 'b@example.com',
      firstName: 'B',
      lastName: 'C',
      phone: '+61 400 000 000',
      country: 'Australia',
      timezone: 'Australia/Sydney',
      promotionOptIn: true,
      username: 'bc',
      title: 'Dr',
      department: 'Ops',
      retailerId: '2',
      attributes: [{ name: 'tier', type: 'STRING', value: 'GOLD' }, { name: 'prefs', type: 'JSON', value: { a: [1, 2] } }]
    }, tenant)

    expect(variableErrors(schema, CREATE_CUSTOMER, { input: smallest })).toEqual([])
    expect(variableErrors(schema, CREATE_CUSTOMER, { input: fullest })).toEqual([])
  })

  it('accepts the variables the product mapper builds, with one price, several prices, categories and attributes', () => {
    const smallest = toCreateProductInput({ ref: 'R', name: 'N', gtin: 'G' }, tenant)
    const onePrice = toCreateProductInput({
      ref: 'R', name: 'N', gtin: 'G', summary: 'S', type: 'SHOE', price: { value: 9.5, currency: 'AUD' }, categories: ['C1']
    }, tenant)
    const severalPrices = toCreateProductInput({
      ref: 'R',
      name: 'N',
      gtin: 'G',
      catalogueRef: 'PC:OTHER',
      prices: [{ value: 1, currency: 'AUD', type: 'SALE' }, { value: 2, currency: 'NZD' }],
      attributes: [{ name: 'colour', type: 'STRING', value: 'red' }]
    }, tenant)

    for (const input of [smallest, onePrice, severalPrices]) {
      expect(variableErrors(schema, CREATE_STANDARD_PRODUCT, { input })).toEqual([])
    }
  })

  it('accepts the variables the order mapper builds, HD and CC, smallest to fullest', () => {
    const item = { ref: 'I-1', productRef: 'P', quantity: 1 }
    const address = { name: 'N', street: 'S', city: 'C', postcode: '2000', country: 'AU' }
    const inputs = [
      toCreateOrderInput({ ref: 'HD-1', customer: { id: '1' }, items: [item], delivery: { address } }, tenant),
      toCreateOrderInput({
        ref: 'HD-2',
        type: 'HD',
        retailerId: '2',
        customer: { email: 'a@example.com', firstName: 'A' },
        items: [{ ...item, price: 1, paidPrice: 0.5, currency: 'AUD', catalogueRef: 'PC:OTHER', attributes: [{ name: 'gift', type: 'BOOLEAN', value: true }] }],
        delivery: {
          type: 'EXPRESS',
          instructions: 'Leave at the door',
          address: { ...address, state: 'NSW', street2: 'Unit 4', companyName: 'Acme', region: 'R', email: 'a@example.com', timeZone: 'Australia/Sydney', latitude: -33.8, longitude: 151.2 }
        },
        totalPrice: 1,
        attributes: [{ name: 'channel', type: 'STRING', value: 'web' }]
      }, tenant),
      toCreateOrderInput({ ref: 'CC-1', type: 'CC', customer: { id: '1' }, items: [item], pickupLocationRef: 'LOC-1' }, tenant)
    ]
    for (const input of inputs) {
      expect(variableErrors(schema, CREATE_ORDER, { input: { ...input, customer: { id: '1' } } })).toEqual([])
    }
  })

  it('would catch a mapper that sends a field Fluent does not know, or leaves a required one out', () => {
    const input = toCreateCustomerInput({ email: 'a@example.com', firstName: 'A' }, tenant)

    expect(variableErrors(schema, CREATE_CUSTOMER, { input: { ...input, email: 'a@example.com' } })).toEqual([expect.stringContaining('"email" is not defined')])
    const { timezone: _timezone, ...withoutTimezone } = input
    expect(variableErrors(schema, CREATE_CUSTOMER, { input: withoutTimezone })).toEqual([expect.stringContaining('timezone')])
  })

  describe('what the routes actually sent to the simulator', () => {
    let gw: TestGateway

    let sim: Simulator

    // The demo seed has the locations an order is fulfilled from.
    beforeAll(async () => {
      sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
      gw = await startGateway({ redisUrl: inject('redisUrl'), sim })
    })
    afterAll(async () => {
      await gw.close()
      await sim.close()
    })

    it('validates, query and variables, for every route', async () => {
      const send = async (method: string, path: string, body?: unknown): Promise<number> => (await call(gw, path, { method, body })).status
      expect(await send('GET', '/me')).toBe(200)
      expect(await send('POST', '/customers', { email: 'v@example.com', firstName: 'V', attributes: [{ name: 'n', type: 'INTEGER', value: 3 }] })).toBe(201)
      expect(await send('POST', '/customers', { email: 'w@example.com', firstName: 'W' })).toBe(201)
      const { nextCursor } = (await call(gw, '/customers?limit=1')).body as { nextCursor: string }
      expect(await send('GET', `/customers?email=w%40example.com&limit=5&cursor=${encodeURIComponent(nextCursor)}`)).toBe(200)
      expect(await send('GET', '/customers/1001')).toBe(200)
      expect(await send('POST', '/products', { ref: 'P', name: 'N', gtin: 'G', price: { value: 1, currency: 'AUD' }, categories: ['C'] })).toBe(201)
      const address = { name: 'N', street: 'S', city: 'C', postcode: '2000', country: 'AU' }
      expect(await send('POST', '/orders', { ref: 'O-1', customer: { email: 'o@example.com', firstName: 'O' }, items: [{ ref: 'O-1-1', productRef: 'P', quantity: 1 }], delivery: { address } })).toBe(201)
      expect(await send('GET', '/orders/O-1')).toBe(200)
      expect(await send('GET', '/orders?status=CREATED&type=HD&updatedSince=2026-01-01T00:00:00Z&limit=1')).toBe(200)
      expect(await send('GET', '/fulfilments?locationRef=L&status=CREATED&updatedSince=2026-01-01T00:00:00Z')).toBe(200)
      expect(await send('GET', '/fulfilments/1001')).toBe(200)
      expect(await send('GET', '/locations?limit=5')).toBe(200)
      expect(await send('GET', '/locations/L')).toBe(404)
      expect(await send('GET', '/stock?productRef=P&locationRef=L')).toBe(200)
      expect(await send('GET', '/availability?items=P:2&near=-33.8,151.2')).toBe(200)

      const operations = new Set<string>()
      for (const request of gw.sim.requests) {
        operations.add(request.operationName ?? '')
        expect(validate(schema, parse(request.query)).map((error) => error.message)).toEqual([])
        expect(variableErrors(schema, request.query, (request.variables ?? {}) as Record<string, unknown>)).toEqual([])
      }
      expect([...operations].sort()).toEqual([
        'CreateCustomer', 'CreateOrder', 'CreateStandardProduct', 'CustomerById', 'Customers', 'FulfilmentById', 'Fulfilments',
        'InventoryPositions', 'LocationByRef', 'Locations', 'Me', 'OrderByRef', 'Orders', 'SearchVirtualInventory'
      ])
    })
  })
})
