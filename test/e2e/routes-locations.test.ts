// End-to-end tests of /locations and /fulfilments over real HTTP on the demo seed.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { DEMO_SEED, startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, expectProblem } from '../helpers/call.js'
import { ACCOUNT, startGateway, type TestGateway } from '../helpers/gateway.js'

const { sydney, melbourne, brisbane } = DEMO_SEED.locations

describe('locations and fulfilments', () => {
  let sim: Simulator
  let gw: TestGateway

  function sent (operationName: string): any[] {
    return gw.sim.requests.filter((request) => request.operationName === operationName).map((request) => request.variables)
  }

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    gw = await startGateway({ redisUrl: inject('redisUrl'), sim })
  })
  afterAll(async () => {
    await gw.close()
    await sim.close()
  })
  beforeEach(() => { sim.reset() })

  describe('GET /locations', () => {
    it('reads a location with its primary address', async () => {
      const answer = await call(gw, `/locations/${brisbane}`)
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({
        id: '3',
        ref: brisbane,
        name: 'Brisbane Distribution Centre',
        type: 'WAREHOUSE',
        status: 'ACTIVE',
        address: {
          companyName: 'Demo Retailer',
          name: 'Brisbane Distribution Centre',
          street: '50 Distribution Way',
          street2: null,
          city: 'Brisbane',
          state: 'QLD',
          postcode: '4000',
          region: null,
          country: 'AU',
          latitude: -27.4698,
          longitude: 153.0251,
          timeZone: 'Australia/Brisbane'
        },
        createdOn: '2026-01-05T00:00:00.000Z',
        updatedOn: '2026-01-05T00:00:00.000Z'
      })
      expect(sent('LocationByRef')).toEqual([{ ref: brisbane }])
    })

    it('answers 404 for a location Fluent does not have', async () => {
      expectProblem(await call(gw, '/locations/NOWHERE'), 404, 'NOT_FOUND', '/locations/NOWHERE')
    })

    it('pages the locations', async () => {
      const first = await call(gw, '/locations?limit=2')
      expect(first.body.items.map((location: any) => location.ref)).toEqual([sydney, melbourne])
      expect(first.headers.get('link')).toBe(`</locations?limit=2&cursor=${encodeURIComponent(first.body.nextCursor as string)}>; rel="next"`)
      const second = await call(gw, `/locations?limit=2&cursor=${encodeURIComponent(first.body.nextCursor as string)}`)
      expect(second.body).toMatchObject({ items: [{ ref: brisbane }], nextCursor: null })
    })

    it('answers 400 with no Fluent call for a bad limit or an unknown parameter', async () => {
      expectProblem(await call(gw, '/locations?limit=500'), 400, 'VALIDATION_FAILED', '/locations')
      expectProblem(await call(gw, '/locations?type=STORE'), 400, 'VALIDATION_FAILED', '/locations')
      expect(sim.counters.graphqlRequests).toBe(0)
    })
  })

  describe('GET /fulfilments', () => {
    async function ccOrder (ref: string): Promise<void> {
      const answer = await call(gw, '/orders', {
        body: { ref, type: 'CC', customer: { id: '1' }, pickupLocationRef: melbourne, items: [{ ref: `${ref}-1`, productRef: 'CAP-BLACK', quantity: 2 }] }
      })
      expect(answer.status).toBe(201)
    }

    it('reads a fulfilment with its items, order ref and location', async () => {
      const answer = await call(gw, '/fulfilments/1')
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({
        id: '1',
        ref: 'DEMO-ORDER-1-F1',
        status: 'CREATED',
        type: 'HD_PFS',
        deliveryType: 'STANDARD',
        orderRef: DEMO_SEED.orderRef,
        locationRef: sydney,
        items: [
          { id: '101', ref: 'DEMO-ORDER-1-1', status: 'CREATED', orderItemRef: 'DEMO-ORDER-1-1', productRef: 'MUG-BLUE', requestedQuantity: 2, filledQuantity: 0, rejectedQuantity: 0 },
          { id: '102', ref: 'DEMO-ORDER-1-2', status: 'CREATED', orderItemRef: 'DEMO-ORDER-1-2', productRef: 'TEE-WHITE-M', requestedQuantity: 1, filledQuantity: 0, rejectedQuantity: 0 }
        ],
        createdOn: '2026-01-05T00:00:00.000Z',
        updatedOn: '2026-01-05T00:00:00.000Z'
      })
    })

    it('answers 404 for an unknown id and 400 with no Fluent call for a malformed one', async () => {
      expectProblem(await call(gw, '/fulfilments/999'), 404, 'NOT_FOUND', '/fulfilments/999')
      const before = sim.counters.graphqlRequests
      expectProblem(await call(gw, '/fulfilments/a.b'), 400, 'VALIDATION_FAILED', '/fulfilments/a.b')
      expect(sim.counters.graphqlRequests).toBe(before)
    })

    it('lists the fulfilments of one location, filtered by status and updatedSince, and pages them', async () => {
      for (const ref of ['CC-1', 'CC-2', 'CC-3']) await ccOrder(ref)

      const first = await call(gw, `/fulfilments?locationRef=${melbourne}&status=CREATED&updatedSince=2026-06-01T00:00:00Z&limit=2`)
      expect(first.status).toBe(200)
      expect(first.body.items.map((fulfilment: any) => [fulfilment.orderRef, fulfilment.locationRef])).toEqual([['CC-1', melbourne], ['CC-2', melbourne]])
      expect(first.body.items[0].items).toEqual([expect.objectContaining({ productRef: 'CAP-BLACK', requestedQuantity: 2 })])
      const link = first.headers.get('link') ?? ''
      const next = /^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? ''
      const second = await call(gw, next)
      expect(second.body.items.map((fulfilment: any) => fulfilment.orderRef)).toEqual(['CC-3'])
      expect(second.body.nextCursor).toBeNull()
      expect(sent('Fulfilments')[0]).toEqual({ fromLocation: { ref: melbourne }, status: ['CREATED'], updatedOn: { from: '2026-06-01T00:00:00Z' }, first: 2 })

      const sydneys = await call(gw, `/fulfilments?locationRef=${sydney}`)
      expect(sydneys.body.items.map((fulfilment: any) => fulfilment.orderRef)).toEqual([DEMO_SEED.orderRef])
    })

    it.each([
      ['updatedSince=2026-13-01T00:00:00Z', 'updatedSince'],
      ['updatedSince=1700000000', 'updatedSince'],
      [`locationRef=${'L'.repeat(101)}`, 'locationRef'],
      ['status=,', 'status'],
      ['limit=-1', 'limit']
    ])('answers 400 naming the parameter, with no Fluent call, for ?%s', async (query, parameter) => {
      const answer = await call(gw, `/fulfilments?${query}`)
      expectProblem(answer, 400, 'VALIDATION_FAILED', '/fulfilments')
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(`/querystring/${parameter}`)
      expect(sim.counters.graphqlRequests).toBe(0)
    })
  })
})
