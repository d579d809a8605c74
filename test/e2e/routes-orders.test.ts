// End-to-end tests of /orders over real HTTP on the demo seed: what the caller gets back and what Fluent (the simulator) received.
import { describe, expect, inject, it } from 'vitest'
import { DEMO_SEED } from '../../src/simulator/index.js'
import { call, expectProblem, type Answer } from '../helpers/call.js'
import { newApiKey, useGateway } from '../helpers/gateway.js'

const ADDRESS = { name: 'Jane Doe', street: '10 Harbour Road', city: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' }

function hdOrder (ref: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ref,
    customer: { id: '1' },
    items: [{ ref: `${ref}-1`, productRef: 'MUG-BLUE', quantity: 2, price: 12.5, currency: 'AUD' }],
    delivery: { address: ADDRESS },
    ...extra
  }
}

describe('/orders', () => {
  const noRetailerKey = newApiKey()

  async function create (body: unknown, apiKey?: string): Promise<Answer> {
    return await call(gw, '/orders', { body, apiKey })
  }

  function sent (operationName: string): any[] {
    return gw.sim.requests.filter((request) => request.operationName === operationName).map((request) => request.variables)
  }

  const operations = (): Array<string | undefined> => gw.sim.requests.map((request) => request.operationName)

  const gw = useGateway(() => ({
    redisUrl: inject('redisUrl'),
    tenants: [{ id: 'acme', apiKey: newApiKey() }, { id: 'noretailer', apiKey: noRetailerKey, retailerId: null }],
    simulator: { demoData: true }
  }))

  describe('POST /orders', () => {
    it('creates an HD order for a known customer id with exactly one Fluent call, filling the defaults', async () => {
      const answer = await create(hdOrder('HD-1', { totalPrice: 25, attributes: [{ name: 'channel', type: 'STRING', value: 'web' }] }))

      expect(answer.status).toBe(201)
      expect(answer.headers.get('location')).toBe('/orders/HD-1')
      expect(answer.body).toEqual({
        id: '1001',
        ref: 'HD-1',
        type: 'HD',
        status: 'CREATED',
        retailerId: '1',
        customerId: '1',
        totalPrice: 25,
        items: [{ ref: 'HD-1-1', productRef: 'MUG-BLUE', quantity: 2, price: 12.5, status: 'CREATED' }],
        fulfilments: [{ id: '1001', ref: 'HD-1-F1', status: 'CREATED', locationRef: DEMO_SEED.locations.sydney }],
        createdOn: expect.any(String),
        updatedOn: expect.any(String)
      })
      expect(operations()).toEqual(['CreateOrder'])
      expect(sent('CreateOrder')).toEqual([{
        input: {
          ref: 'HD-1',
          type: 'HD',
          retailer: { id: '1' },
          customer: { id: '1' },
          items: [{ ref: 'HD-1-1', productRef: 'MUG-BLUE', productCatalogueRef: 'PC:MASTER:1', quantity: 2, price: 12.5, currency: 'AUD' }],
          fulfilmentChoice: { deliveryType: 'STANDARD', deliveryAddress: { ref: 'HD-1-DELIVERY', ...ADDRESS } },
          totalPrice: 25,
          attributes: [{ name: 'channel', type: 'STRING', value: 'web' }]
        }
      }])
    })

    it('creates a CC order from its pickup location, with the given catalogue, retailer and delivery type', async () => {
      const answer = await create({
        ref: 'CC-1',
        type: 'CC',
        retailerId: '1',
        customer: { id: '1' },
        pickupLocationRef: DEMO_SEED.locations.melbourne,
        delivery: { type: 'EXPRESS', instructions: 'Call on arrival' },
        items: [{ ref: 'CC-1-1', productRef: 'CAP-BLACK', quantity: 1, catalogueRef: 'PC:MASTER:1', paidPrice: 19.95 }]
      })

      expect(answer.status).toBe(201)
      expect(answer.body).toMatchObject({ ref: 'CC-1', type: 'CC', fulfilments: [{ locationRef: DEMO_SEED.locations.melbourne }] })
      expect(sent('CreateOrder')[0].input).toEqual({
        ref: 'CC-1',
        type: 'CC',
        retailer: { id: '1' },
        customer: { id: '1' },
        items: [{ ref: 'CC-1-1', productRef: 'CAP-BLACK', productCatalogueRef: 'PC:MASTER:1', quantity: 1, paidPrice: 19.95 }],
        fulfilmentChoice: { deliveryType: 'EXPRESS', pickupLocationRef: DEMO_SEED.locations.melbourne, deliveryInstruction: 'Call on arrival' }
      })
    })

    it('passes another workflow type through, needing neither a delivery address nor a pickup location', async () => {
      const answer = await create({ ref: 'B2B-1', type: 'B2B', customer: { id: '1' }, items: [{ ref: 'B2B-1-1', productRef: 'BOTTLE-1L', quantity: 5 }] })
      expect(answer.status).toBe(201)
      expect(answer.body).toMatchObject({ ref: 'B2B-1', type: 'B2B' })
      expect(sent('CreateOrder')[0].input).toMatchObject({ type: 'B2B', fulfilmentChoice: { deliveryType: 'STANDARD' } })
      expect(sent('CreateOrder')[0].input.fulfilmentChoice).not.toHaveProperty('deliveryAddress')
    })

    it('uses the existing customer of a known email: one lookup, no create', async () => {
      const answer = await create(hdOrder('HD-2', { customer: { email: DEMO_SEED.customerUsername, firstName: 'Sam' } }))

      expect(answer.status).toBe(201)
      expect(answer.body.customerId).toBe('1')
      expect(operations()).toEqual(['Customers', 'CreateOrder'])
      expect(sent('Customers')).toEqual([{ first: 1, primaryEmail: [DEMO_SEED.customerUsername] }])
    })

    it('creates the customer of a new email once, with the POST /customers defaults, then the order for it', async () => {
      const answer = await create(hdOrder('HD-3', { customer: { email: 'new.buyer@example.com', firstName: 'New', lastName: 'Buyer', phone: '+61 400 111 222' } }))

      expect(answer.status).toBe(201)
      expect(operations()).toEqual(['Customers', 'CreateCustomer', 'CreateOrder'])
      expect(sent('CreateCustomer')).toEqual([{
        input: {
          username: 'new.buyer@example.com',
          primaryEmail: 'new.buyer@example.com',
          timezone: 'UTC',
          promotionOptIn: false,
          retailer: { id: '1' },
          firstName: 'New',
          lastName: 'Buyer',
          primaryPhone: '+61 400 111 222'
        }
      }])
      expect(sent('CreateOrder')[0].input.customer).toEqual({ id: answer.body.customerId })

      // A second order for the same email finds that customer.
      expect((await create(hdOrder('HD-4', { customer: { email: 'new.buyer@example.com', firstName: 'New' } }))).body.customerId).toBe(answer.body.customerId)
      expect(sent('CreateCustomer')).toHaveLength(1)
    })

    it('makes one customer for concurrent orders of one new email: a create that meets the duplicate looks the winner up', async () => {
      // Every lookup answers before any create runs, so every request but one loses the race to create.
      gw.sim.faults.graphqlDelayMs = 100
      const answers = await Promise.all(['R-1', 'R-2', 'R-3'].map(async (ref) =>
        await create(hdOrder(ref, { customer: { email: 'race@example.com', firstName: 'Race' } }))))
      gw.sim.faults.graphqlDelayMs = 0

      expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201])
      expect(new Set(answers.map((answer) => answer.body.customerId)).size).toBe(1)
      const customers = await call(gw, '/customers?email=race%40example.com')
      expect(customers.body.items).toHaveLength(1)
      expect(customers.body.items[0].id).toBe(answers[0]?.body.customerId)
      expect(sent('CreateCustomer').length).toBeGreaterThan(1)
    })

    it('keeps the 409 when a customer create meets a duplicate that is not this email\'s customer', async () => {
      // Someone else holds the username this email would get.
      expect((await call(gw, '/customers', { body: { email: 'other@example.com', firstName: 'O', username: 'taken@example.com' } })).status).toBe(201)
      const answer = await create(hdOrder('HD-5', { customer: { email: 'taken@example.com', firstName: 'T' } }))
      expectProblem(answer, 409, 'CONFLICT', '/orders')
      expect(sent('CreateOrder')).toEqual([])
    })

    it('answers 409 for a duplicate order ref', async () => {
      const answer = await create(hdOrder(DEMO_SEED.orderRef))
      expectProblem(answer, 409, 'CONFLICT', '/orders')
      expect(answer.body.upstream.codes).toContain('C0121E')
    })

    it('answers 404 when Fluent has no such customer id', async () => {
      expectProblem(await create(hdOrder('HD-6', { customer: { id: '999' } })), 404, 'NOT_FOUND', '/orders')
    })

    const invalid: Array<[string, unknown, string]> = [
      ['an HD order without a delivery address', { ...hdOrder('B-1'), delivery: undefined }, '/body/delivery/address'],
      ['an HD order with a delivery but no address', { ...hdOrder('B-2'), delivery: { type: 'EXPRESS' } }, '/body/delivery/address'],
      ['a CC order without a pickup location', { ...hdOrder('B-3'), type: 'CC', delivery: undefined }, '/body/pickupLocationRef'],
      ['no ref', { ...hdOrder('B-4'), ref: undefined }, '/body/ref'],
      ['no items', { ...hdOrder('B-5'), items: [] }, '/body/items'],
      ['501 items', { ...hdOrder('B-6'), items: Array.from({ length: 501 }, (_, i) => ({ ref: `I-${i}`, productRef: 'MUG-BLUE', quantity: 1 })) }, '/body/items'],
      ['a zero quantity', { ...hdOrder('B-7'), items: [{ ref: 'I', productRef: 'MUG-BLUE', quantity: 0 }] }, '/body/items/0/quantity'],
      ['an unknown property', { ...hdOrder('B-8'), channel: 'web' }, '/body/channel'],
      ['an unknown item property', { ...hdOrder('B-9'), items: [{ ref: 'I', productRef: 'MUG-BLUE', quantity: 1, sku: 'X' }] }, '/body/items/0/sku'],
      ['an unknown address property', { ...hdOrder('B-10'), delivery: { address: { ...ADDRESS, planet: 'Earth' } } }, '/body/delivery/address/planet'],
      ['an address without a postcode', { ...hdOrder('B-11'), delivery: { address: { ...ADDRESS, postcode: undefined } } }, '/body/delivery/address/postcode'],
      ['a customer with both id and email', { ...hdOrder('B-12'), customer: { id: '1', email: 'a@example.com', firstName: 'A' } }, '/body/customer'],
      ['a customer email without a first name', { ...hdOrder('B-13'), customer: { email: 'a@example.com' } }, '/body/customer'],
      ['two items with one ref', { ...hdOrder('B-14'), items: [{ ref: 'I', productRef: 'MUG-BLUE', quantity: 1 }, { ref: 'I', productRef: 'CAP-BLACK', quantity: 1 }] }, '/body/items/1/ref'],
      ['a quantity given as a string', { ...hdOrder('B-15'), items: [{ ref: 'I', productRef: 'MUG-BLUE', quantity: '2' }] }, '/body/items/0/quantity']
    ]

    it.each(invalid)('answers 400 naming the field, with no Fluent call, for %s', async (_name, body, path) => {
      const answer = await create(body)
      expectProblem(answer, 400, 'VALIDATION_FAILED', '/orders')
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(path)
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })

    it('answers 400 with no Fluent call when the tenant has no retailer and the body names none', async () => {
      const answer = await create(hdOrder('B-20'), noRetailerKey)
      expectProblem(answer, 400, 'VALIDATION_FAILED', '/orders')
      expect(answer.body.errors).toEqual([{ path: '/body/retailerId', message: expect.stringContaining('no default retailer') }])
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })
  })

  describe('GET /orders/{ref}', () => {
    it('reads the order with its items and fulfilments', async () => {
      const answer = await call(gw, `/orders/${DEMO_SEED.orderRef}`)
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({
        id: '1',
        ref: DEMO_SEED.orderRef,
        type: 'HD',
        status: 'CREATED',
        retailerId: '1',
        customerId: '1',
        totalPrice: 54,
        items: [
          { ref: 'DEMO-ORDER-1-1', productRef: 'MUG-BLUE', quantity: 2, price: 12.5, status: 'CREATED' },
          { ref: 'DEMO-ORDER-1-2', productRef: 'TEE-WHITE-M', quantity: 1, price: 29, status: 'CREATED' }
        ],
        fulfilments: [{ id: '1', ref: 'DEMO-ORDER-1-F1', status: 'CREATED', locationRef: DEMO_SEED.locations.sydney }],
        createdOn: '2026-01-05T00:00:00.000Z',
        updatedOn: '2026-01-05T00:00:00.000Z'
      })
      expect(sent('OrderByRef')).toEqual([{ ref: DEMO_SEED.orderRef }])
    })

    it('answers 404 when Fluent has no such order', async () => {
      expectProblem(await call(gw, '/orders/NO-SUCH-ORDER'), 404, 'NOT_FOUND', '/orders/NO-SUCH-ORDER')
    })
  })

  describe('GET /orders', () => {
    it('pages orders across more than one page with nextCursor and Link, keeping the filters', async () => {
      for (const ref of ['P-1', 'P-2', 'P-3']) expect((await create(hdOrder(ref))).status).toBe(201)

      const first = await call(gw, '/orders?type=HD&status=CREATED,BOOKED&limit=2')
      expect(first.status).toBe(200)
      expect(first.body.items.map((order: { ref: string }) => order.ref)).toEqual([DEMO_SEED.orderRef, 'P-1'])
      expect(first.body.nextCursor).toEqual(expect.any(String))
      const link = first.headers.get('link') ?? ''
      expect(link).toMatch(/^<\/orders\?.*>; rel="next"$/)
      const nextPath = /^<([^>]+)>/.exec(link)?.[1] ?? ''
      expect(new URL(nextPath, gw.url).searchParams.get('cursor')).toBe(first.body.nextCursor)

      const second = await call(gw, nextPath)
      expect(second.body.items.map((order: { ref: string }) => order.ref)).toEqual(['P-2', 'P-3'])
      expect(second.body.nextCursor).toBeNull()
      expect(second.headers.get('link')).toBeNull()
      expect(sent('Orders')).toEqual([
        { first: 2, status: ['CREATED', 'BOOKED'], type: ['HD'] },
        { first: 2, status: ['CREATED', 'BOOKED'], type: ['HD'], after: first.body.nextCursor }
      ])
    })

    it('filters by updatedSince', async () => {
      expect((await create(hdOrder('NEW-1'))).status).toBe(201)
      const answer = await call(gw, '/orders?updatedSince=2026-06-01T00:00:00Z')
      expect(answer.body.items.map((order: { ref: string }) => order.ref)).toEqual(['NEW-1'])
      expect(sent('Orders').at(-1)).toEqual({ first: 20, updatedOn: { from: '2026-06-01T00:00:00Z' } })
    })

    it.each([
      ['updatedSince=yesterday', 'updatedSince'],
      ['updatedSince=2026-01-01', 'updatedSince'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['status=CREATED,,BOOKED', 'status'],
      [`type=${Array.from({ length: 21 }, () => 'HD').join(',')}`, 'type'],
      ['colour=red', 'colour']
    ])('answers 400 naming the parameter, with no Fluent call, for ?%s', async (query, parameter) => {
      const answer = await call(gw, `/orders?${query}`)
      expectProblem(answer, 400, 'VALIDATION_FAILED', '/orders')
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(`/querystring/${parameter}`)
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })
  })
})
