// Tests of the schema-driven simulator over real HTTP, on the demo seed: generic lists and lookups, orders, availability and removed fields.
import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fluentSdl } from '../../src/fluent/schema.js'
import { DEMO_SEED, startSimulator, type Simulator } from '../../src/simulator/index.js'
import { admin, getToken, graphql } from './http.js'

const ids = (connection: { edges: Array<{ node: { id: string } }> }): string[] => connection.edges.map((edge) => edge.node.id)

const ordersQuery = `query ($first: Int, $after: String, $updatedOn: DateRange, $status: [String]) {
  orders(first: $first, after: $after, updatedOn: $updatedOn, status: $status) {
    edges { cursor node { id ref type status } }
    pageInfo { hasNextPage hasPreviousPage }
  }
}`

const createOrderMutation = `mutation CreateOrder($input: CreateOrderInput) {
  createOrder(input: $input) {
    id ref type status retailer { id } customer { id username }
    fulfilmentChoice { deliveryType pickupLocationRef }
    items { edges { node { ref quantity status product { ref } } } }
    fulfilments { edges { node { id status fromLocation { ref } } } }
  }
}`

function orderInput (ref: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ref,
    type: 'HD',
    retailer: { id: '1' },
    customer: { id: '1' },
    items: [{ ref: `${ref}-1`, productRef: 'BOTTLE-1L', quantity: 1 }],
    fulfilmentChoice: { deliveryType: 'STANDARD', deliveryAddress: { ref: `${ref}-A`, city: 'Sydney' } },
    ...extra
  }
}

describe('schema-driven simulator on the demo seed', () => {
  let sim: Simulator
  let token: string

  beforeAll(async () => {
    sim = await startSimulator({ demoData: true })
    token = await getToken(sim)
  })
  afterAll(async () => { await sim.close() })
  beforeEach(() => { sim.reset() })

  describe('root fields it does not serve', () => {
    it('answers a query field without a store collection with a GraphQL error naming it, not a null', async () => {
      const answer = await graphql(sim, token, '{ returnOrders { edges { node { id } } } }')
      expect(answer.status).toBe(200)
      expect(answer.body.data).toEqual({ returnOrders: null })
      expect(answer.body.errors).toEqual([expect.objectContaining({
        message: 'C0100E the simulator does not serve Query.returnOrders',
        extensions: { code: 'C0100E' },
        path: ['returnOrders']
      })])
    })

    it('answers a mutation without a handler the same way', async () => {
      const answer = await graphql(sim, token, 'mutation { updateOrder(input: null) { id } }')
      expect(answer.body.data).toEqual({ updateOrder: null })
      expect(answer.body.errors[0].message).toBe('C0100E the simulator does not serve Mutation.updateOrder')
    })
  })

  describe('lists', () => {
    it('pages orders with cursors on edges and no endCursor, and filters them by updatedOn', async () => {
      for (const ref of ['HD-2', 'HD-3']) {
        expect((await graphql(sim, token, createOrderMutation, { input: orderInput(ref) })).body.errors).toBeUndefined()
      }
      const first = await graphql(sim, token, ordersQuery, { first: 2 })
      expect(first.body.data.orders.edges.map((edge: any) => edge.node.ref)).toEqual([DEMO_SEED.orderRef, 'HD-2'])
      expect(first.body.data.orders.edges.every((edge: any) => typeof edge.cursor === 'string')).toBe(true)
      expect(first.body.data.orders.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false })

      const second = await graphql(sim, token, ordersQuery, { first: 2, after: first.body.data.orders.edges[1].cursor })
      expect(second.body.data.orders.edges.map((edge: any) => edge.node.ref)).toEqual(['HD-3'])
      expect(second.body.data.orders.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true })

      const seeded = await graphql(sim, token, ordersQuery, { updatedOn: { from: '2026-01-01T00:00:00Z', to: '2026-01-10T00:00:00Z' } })
      expect(seeded.body.data.orders.edges.map((edge: any) => edge.node)).toEqual([
        { id: '1', ref: DEMO_SEED.orderRef, type: 'HD', status: 'CREATED' }
      ])
    })

    it('pages locations two at a time', async () => {
      const query = 'query ($after: String) { locations(first: 2, after: $after) { edges { cursor node { id ref } } pageInfo { hasNextPage hasPreviousPage } } }'
      const first = await graphql(sim, token, query)
      expect(first.body.data.locations.edges.map((edge: any) => edge.node.ref)).toEqual([DEMO_SEED.locations.sydney, DEMO_SEED.locations.melbourne])
      expect(first.body.data.locations.pageInfo.hasNextPage).toBe(true)
      const second = await graphql(sim, token, query, { after: first.body.data.locations.edges[1].cursor })
      expect(second.body.data.locations.edges.map((edge: any) => edge.node.ref)).toEqual([DEMO_SEED.locations.brisbane])
      expect(second.body.data.locations.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true })
    })

    it('filters inventoryPositions by productRef and locationRef lists and the catalogue ref, and pages them', async () => {
      const query = `query ($products: [String!], $locations: [String], $catalogue: InventoryCatalogueKey, $after: String) {
        inventoryPositions(productRef: $products, locationRef: $locations, catalogue: $catalogue, first: 2, after: $after) {
          edges { cursor node { productRef locationRef onHand status updatedOn catalogue { ref } product { ref } } }
          pageInfo { hasNextPage hasPreviousPage }
        }
      }`
      const variables = {
        products: ['MUG-BLUE', 'BOTTLE-1L'],
        locations: [DEMO_SEED.locations.melbourne, DEMO_SEED.locations.brisbane],
        catalogue: { ref: DEMO_SEED.inventoryCatalogueRef }
      }
      const seen: unknown[] = []
      let after: string | undefined
      let pages = 0
      for (;;) {
        const answer = await graphql(sim, token, query, { ...variables, after })
        expect(answer.body.errors).toBeUndefined()
        const page = answer.body.data.inventoryPositions
        expect(page.edges.length).toBeLessThanOrEqual(2)
        seen.push(...page.edges.map((edge: any) => edge.node))
        pages++
        if (!page.pageInfo.hasNextPage) break
        after = page.edges.at(-1).cursor
      }
      expect(pages).toBe(2)
      expect(seen.map((node: any) => `${node.productRef}@${node.locationRef}=${node.onHand}`)).toEqual([
        'MUG-BLUE@LOC-MEL-01=3', 'MUG-BLUE@DC-BNE-01=240', 'BOTTLE-1L@LOC-MEL-01=8', 'BOTTLE-1L@DC-BNE-01=150'
      ])
      expect(seen[0]).toMatchObject({ status: 'ACTIVE', updatedOn: '2026-01-05T00:00:00.000Z', catalogue: { ref: 'DEFAULT:1' }, product: { ref: 'MUG-BLUE' } })

      const elsewhere = await graphql(sim, token, query, { ...variables, catalogue: { ref: 'DEFAULT:42' } })
      expect(elsewhere.body.data.inventoryPositions.edges).toEqual([])
    })
  })

  it('finds a location by ref, with its primaryAddress resolved to StoreAddress', async () => {
    const answer = await graphql(sim, token, `{ location(ref: "${DEMO_SEED.locations.brisbane}") {
      id ref name type status
      primaryAddress { __typename city ... on StoreAddress { state postcode latitude longitude location { ref } } }
    } }`)
    expect(answer.body).toEqual({
      data: {
        location: {
          id: '3',
          ref: 'DC-BNE-01',
          name: 'Brisbane Distribution Centre',
          type: 'WAREHOUSE',
          status: 'ACTIVE',
          primaryAddress: {
            __typename: 'StoreAddress', city: 'Brisbane', state: 'QLD', postcode: '4000', latitude: -27.4698, longitude: 153.0251, location: { ref: 'DC-BNE-01' }
          }
        }
      }
    })
    expect((await graphql(sim, token, '{ location(ref: "NOWHERE") { id } }')).body).toEqual({ data: { location: null } })
  })

  describe('createOrder', () => {
    it('creates an HD order with its items and a fulfilment from the first location, readable every way', async () => {
      const created = await graphql(sim, token, createOrderMutation, { input: orderInput('HD-100') })
      expect(created.body.errors).toBeUndefined()
      expect(created.body.data.createOrder).toEqual({
        id: '1001',
        ref: 'HD-100',
        type: 'HD',
        status: 'CREATED',
        retailer: { id: '1' },
        customer: { id: '1', username: DEMO_SEED.customerUsername },
        fulfilmentChoice: { deliveryType: 'STANDARD', pickupLocationRef: null },
        items: { edges: [{ node: { ref: 'HD-100-1', quantity: 1, status: 'CREATED', product: { ref: 'BOTTLE-1L' } } }] },
        fulfilments: { edges: [{ node: { id: '1001', status: 'CREATED', fromLocation: { ref: DEMO_SEED.locations.sydney } } }] }
      })

      const byRef = await graphql(sim, token, '{ order(ref: "HD-100") { id } }')
      expect(byRef.body.data.order).toEqual({ id: '1001' })
      const byId = await graphql(sim, token, '{ orderById(id: "1001") { ref } }')
      expect(byId.body.data.orderById).toEqual({ ref: 'HD-100' })
      const fulfilment = await graphql(sim, token, `{ fulfilmentById(id: "1001") {
        status type order { ref } items { edges { node { requestedQuantity filledQuantity orderItem { ref } } } }
        toAddress { ... on CustomerAddress { city } }
      } }`)
      expect(fulfilment.body.data.fulfilmentById).toEqual({
        status: 'CREATED',
        type: 'HD_PFS',
        order: { ref: 'HD-100' },
        items: { edges: [{ node: { requestedQuantity: 1, filledQuantity: 0, orderItem: { ref: 'HD-100-1' } } }] },
        toAddress: { city: 'Sydney' }
      })
    })

    it('fulfils a CC order from its pickup location, which fulfilments(fromLocation) then lists', async () => {
      const input = orderInput('CC-1', {
        type: 'CC',
        fulfilmentChoice: { deliveryType: 'CC', pickupLocationRef: DEMO_SEED.locations.melbourne }
      })
      expect((await graphql(sim, token, createOrderMutation, { input })).body.errors).toBeUndefined()
      const query = 'query ($ref: String!) { fulfilments(fromLocation: { ref: $ref }) { edges { node { id order { ref } } } } }'
      const melbourne = await graphql(sim, token, query, { ref: DEMO_SEED.locations.melbourne })
      expect(melbourne.body.data.fulfilments.edges).toEqual([{ node: { id: '1001', order: { ref: 'CC-1' } } }])
      const sydney = await graphql(sim, token, query, { ref: DEMO_SEED.locations.sydney })
      expect(sydney.body.data.fulfilments.edges).toEqual([{ node: { id: '1', order: { ref: DEMO_SEED.orderRef } } }])
    })

    it('answers a ref the retailer already has with C0121E and creates nothing', async () => {
      const answer = await graphql(sim, token, createOrderMutation, { input: orderInput(DEMO_SEED.orderRef) })
      expect(answer.body.data).toEqual({ createOrder: null })
      expect(answer.body.errors[0]).toMatchObject({
        message: `C0121E Unique constraint violation: an order with ref '${DEMO_SEED.orderRef}' already exists for retailer '1'`,
        extensions: { code: 'C0121E' }
      })
      expect(ids((await graphql(sim, token, ordersQuery)).body.data.orders)).toEqual(['1'])
    })

    it('answers an unknown customer id with C0120E', async () => {
      const answer = await graphql(sim, token, createOrderMutation, { input: orderInput('HD-X', { customer: { id: '999' } }) })
      expect(answer.body.data).toEqual({ createOrder: null })
      expect(answer.body.errors[0]).toMatchObject({ message: expect.stringMatching(/^C0120E Customer not found/), extensions: { code: 'C0120E' } })
    })

    it('rejects an order without items or customer before running the mutation, as the schema requires them', async () => {
      const { customer: _customer, ...withoutCustomer } = orderInput('HD-Y')
      const answer = await graphql(sim, token, createOrderMutation, { input: withoutCustomer })
      expect(answer.body.data).toBeUndefined()
      expect(answer.body.errors[0].message).toContain('customer')
    })
  })

  describe('searchVirtualInventory', () => {
    const search = `query ($products: [ProductQuantityInput!]!, $near: GeoCoordinateInput, $first: Int) {
      searchVirtualInventory(virtualCatalogue: { ref: "BASE:1" }, productQuantities: $products, orderByProximity: $near, first: $first) {
        edges { cursor node { location { ref } virtualPositions { productRef quantity } } }
        pageInfo { hasNextPage hasPreviousPage }
      }
    }`
    const refs = (answer: any): string[] => answer.body.data.searchVirtualInventory.edges.map((edge: any) => edge.node.location.ref)

    it('orders the locations that cover the quantities by distance from the given point', async () => {
      const products = [{ productRef: 'MUG-BLUE', quantity: 2 }]
      expect(refs(await graphql(sim, token, search, { products, near: { latitude: -37.81, longitude: 144.96 } })))
        .toEqual(['LOC-MEL-01', 'LOC-SYD-01', 'DC-BNE-01'])
      expect(refs(await graphql(sim, token, search, { products, near: { latitude: -27.47, longitude: 153.02 } })))
        .toEqual(['DC-BNE-01', 'LOC-SYD-01', 'LOC-MEL-01'])
      const nearest = await graphql(sim, token, search, { products, near: { latitude: -27.47, longitude: 153.02 }, first: 1 })
      expect(refs(nearest)).toEqual(['DC-BNE-01'])
      expect(nearest.body.data.searchVirtualInventory.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false })
    })

    it('leaves out locations that cannot cover every requested quantity', async () => {
      const answer = await graphql(sim, token, search, {
        products: [{ productRef: 'MUG-BLUE', quantity: 2 }, { productRef: 'CAP-BLACK', quantity: 2 }]
      })
      expect(answer.body.data.searchVirtualInventory.edges.map((edge: any) => edge.node)).toEqual([{
        location: { ref: 'LOC-MEL-01' },
        virtualPositions: [{ productRef: 'MUG-BLUE', quantity: 2 }, { productRef: 'CAP-BLACK', quantity: 5 }]
      }])
      expect(refs(await graphql(sim, token, search, { products: [{ productRef: 'MUG-BLUE', quantity: 1000 }] }))).toEqual([])
    })
  })

  describe('the removedFields fault', () => {
    it('takes fields out of validation and introspection until reset', async () => {
      const patched = await admin(sim, 'PATCH', '/_sim/faults', { removedFields: ['Query.orders', 'Order.totalPrice'] })
      expect(patched.status).toBe(200)
      expect(patched.body.faults.removedFields).toEqual(['Query.orders', 'Order.totalPrice'])

      const orders = await graphql(sim, token, '{ orders { edges { node { id } } } }')
      expect(orders.body.data).toBeUndefined()
      expect(orders.body.errors[0].message).toMatch(/^Cannot query field "orders" on type "Query"/)
      const price = await graphql(sim, token, '{ orderById(id: "1") { ref totalPrice } }')
      expect(price.body.errors[0].message).toMatch(/^Cannot query field "totalPrice" on type "Order"/)
      expect((await graphql(sim, token, '{ orderById(id: "1") { ref } }')).body).toEqual({ data: { orderById: { ref: DEMO_SEED.orderRef } } })

      const introspection = await graphql(sim, token, '{ __schema { queryType { fields { name } } } __type(name: "Order") { fields { name } } }')
      const queryFields = introspection.body.data.__schema.queryType.fields.map((field: any) => field.name)
      const orderFields = introspection.body.data.__type.fields.map((field: any) => field.name)
      expect(queryFields).not.toContain('orders')
      expect(queryFields).toContain('orderById')
      expect(orderFields).not.toContain('totalPrice')
      expect(orderFields).toContain('totalTaxPrice')

      await admin(sim, 'POST', '/_sim/reset')
      expect((await graphql(sim, token, '{ orders { edges { node { id } } } }')).body.errors).toBeUndefined()
    })

    it.each([
      [['Query.nothingHere'], 'removedFields: no field Query.nothingHere in the schema'],
      ['Query.orders', 'removedFields must be an array of "Type.field" names'],
      [['Order.id'], expect.stringMatching(/^removedFields would leave an invalid schema: Interface field Node\.id expected/)]
    ])('refuses %j with 400 and changes nothing', async (removedFields, problem) => {
      const answer = await admin(sim, 'PATCH', '/_sim/faults', { removedFields })
      expect(answer.status).toBe(400)
      expect(answer.body).toEqual({ error: problem })
      expect(sim.faults.removedFields).toEqual([])
    })
  })

  it('answers the standard introspection query with the whole snapshot', async () => {
    const answer = await graphql(sim, token, getIntrospectionQuery())
    expect(answer.body.errors).toBeUndefined()
    expect(printSchema(buildClientSchema(answer.body.data)) + '\n').toBe(fluentSdl())
  })
})

describe('schema-driven simulator without the demo seed', () => {
  it('serves the stored types with empty lists', async () => {
    const sim = await startSimulator()
    try {
      const token = await getToken(sim)
      const answer = await graphql(sim, token, '{ locations { edges { node { id } } } orders { edges { node { id } } } }')
      expect(answer.body).toEqual({ data: { locations: { edges: [] }, orders: { edges: [] } } })
    } finally {
      await sim.close()
    }
  })
})
