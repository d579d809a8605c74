// End-to-end tests of GET /stock and GET /availability over real HTTP on the demo seed.
import { describe, expect, inject, it } from 'vitest'
import { DEMO_SEED } from '../../src/simulator/index.js'
import { call, expectProblem } from '../helpers/call.js'
import { newApiKey, useGateway } from '../helpers/gateway.js'

const { sydney, melbourne, brisbane } = DEMO_SEED.locations

describe('stock and availability', () => {
  const noRetailerKey = newApiKey()

  function sent (operationName: string): any[] {
    return gw.sim.requests.filter((request) => request.operationName === operationName).map((request) => request.variables)
  }

  const gw = useGateway(() => ({
    redisUrl: inject('redisUrl'),
    tenants: [{ id: 'acme', apiKey: newApiKey() }, { id: 'noretailer', apiKey: noRetailerKey, retailerId: null }],
    simulator: { demoData: true }
  }))

  describe('GET /stock', () => {
    it('lists the positions of a location in the tenant\'s inventory catalogue', async () => {
      const answer = await call(gw, `/stock?locationRef=${melbourne}`)
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({
        items: [
          { productRef: 'MUG-BLUE', locationRef: melbourne, onHand: 3, status: 'ACTIVE', updatedOn: '2026-01-05T00:00:00.000Z' },
          { productRef: 'TEE-WHITE-M', locationRef: melbourne, onHand: 0, status: 'ACTIVE', updatedOn: '2026-01-05T00:00:00.000Z' },
          { productRef: 'BOTTLE-1L', locationRef: melbourne, onHand: 8, status: 'ACTIVE', updatedOn: '2026-01-05T00:00:00.000Z' },
          { productRef: 'CAP-BLACK', locationRef: melbourne, onHand: 6, status: 'ACTIVE', updatedOn: '2026-01-05T00:00:00.000Z' }
        ],
        nextCursor: null
      })
      expect(sent('InventoryPositions')).toEqual([{ catalogue: { ref: DEMO_SEED.inventoryCatalogueRef }, first: 20, locationRef: [melbourne] }])
    })

    it('takes comma lists of products and locations', async () => {
      const answer = await call(gw, `/stock?productRef=MUG-BLUE,CAP-BLACK&locationRef=${sydney},${brisbane}`)
      expect(answer.body.items.map((item: any) => `${item.productRef}@${item.locationRef as string}=${item.onHand as number}`)).toEqual([
        `MUG-BLUE@${sydney}=12`, `MUG-BLUE@${brisbane}=240`, `CAP-BLACK@${sydney}=2`
      ])
      expect(sent('InventoryPositions')[0]).toMatchObject({ productRef: ['MUG-BLUE', 'CAP-BLACK'], locationRef: [sydney, brisbane] })
    })

    it('pages every position across three pages, following the Link header', async () => {
      const seen: string[] = []
      let path: string | undefined = '/stock?limit=4'
      let pages = 0
      while (path !== undefined) {
        const answer = await call(gw, path)
        expect(answer.status).toBe(200)
        expect(answer.body.items.length).toBeLessThanOrEqual(4)
        seen.push(...answer.body.items.map((item: any) => `${item.productRef}@${item.locationRef as string}`))
        pages++
        const link = answer.headers.get('link')
        expect(link === null).toBe(answer.body.nextCursor === null)
        path = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)?.[1]
      }
      expect(pages).toBe(3)
      expect(seen).toHaveLength(10)
      expect(new Set(seen).size).toBe(10)
    })

    it.each([
      ['productRef=MUG-BLUE,,CAP-BLACK', 'productRef'],
      [`productRef=${Array.from({ length: 101 }, (_, i) => `P${i}`).join(',')}`, 'productRef'],
      [`locationRef=${'L'.repeat(101)}`, 'locationRef'],
      ['locationRef=', 'locationRef'],
      ['limit=0', 'limit'],
      ['limit=1.5', 'limit'],
      ['catalogueRef=DEFAULT:2', 'catalogueRef']
    ])('answers 400 naming the parameter, with no Fluent call, for ?%s', async (query, parameter) => {
      const answer = await call(gw, `/stock?${query}`)
      expectProblem(answer, 400, 'VALIDATION_FAILED', '/stock')
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(`/querystring/${parameter}`)
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })

    it('answers 400 with no Fluent call for a tenant with neither inventory catalogue nor retailer', async () => {
      expectProblem(await call(gw, '/stock', { apiKey: noRetailerKey }), 400, 'VALIDATION_FAILED', '/stock')
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })
  })

  describe('GET /availability', () => {
    const refs = (answer: { body: any }): string[] => answer.body.items.map((item: any) => item.locationRef)

    it('answers the locations with the whole basket, in Fluent\'s order without near', async () => {
      const answer = await call(gw, '/availability?items=MUG-BLUE:2,CAP-BLACK')
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({
        items: [
          { locationRef: sydney, locationName: 'Sydney CBD Store', positions: [{ productRef: 'MUG-BLUE', quantity: 11 }, { productRef: 'CAP-BLACK', quantity: 1 }] },
          { locationRef: melbourne, locationName: 'Melbourne Central Store', positions: [{ productRef: 'MUG-BLUE', quantity: 2 }, { productRef: 'CAP-BLACK', quantity: 5 }] }
        ]
      })
      expect(sent('SearchVirtualInventory')).toEqual([{
        virtualCatalogue: { ref: DEMO_SEED.virtualCatalogueRef },
        productQuantities: [{ productRef: 'MUG-BLUE', quantity: 2 }, { productRef: 'CAP-BLACK', quantity: 1 }],
        first: 20
      }])
    })

    it('puts the nearest location first with near', async () => {
      expect(refs(await call(gw, '/availability?items=MUG-BLUE:2&near=-27.47,153.03'))).toEqual([brisbane, sydney, melbourne])
      expect(refs(await call(gw, '/availability?items=MUG-BLUE:2&near=-37.81,144.96'))).toEqual([melbourne, sydney, brisbane])
      expect(refs(await call(gw, '/availability?items=MUG-BLUE:2&near=-33.87,151.21&limit=1'))).toEqual([sydney])
      expect(sent('SearchVirtualInventory')[0].orderByProximity).toEqual({ latitude: -27.47, longitude: 153.03 })
    })

    it('answers an empty list when no location has enough', async () => {
      expect((await call(gw, '/availability?items=MUG-BLUE:1000')).body).toEqual({ items: [] })
    })

    it.each([
      ['', 'items'],
      ['items=', 'items'],
      ['items=MUG-BLUE:0', 'items'],
      ['items=MUG-BLUE:-1', 'items'],
      ['items=MUG-BLUE:two', 'items'],
      ['items=MUG-BLUE,,CAP-BLACK', 'items'],
      ['items=MUG-BLUE:1,MUG-BLUE:2', 'items'],
      [`items=${Array.from({ length: 51 }, (_, i) => `P${i}`).join(',')}`, 'items'],
      ['items=MUG-BLUE&near=sydney', 'near'],
      ['items=MUG-BLUE&near=-33.8', 'near'],
      ['items=MUG-BLUE&near=-95,151', 'near'],
      ['items=MUG-BLUE&near=-33,181', 'near'],
      ['items=MUG-BLUE&limit=101', 'limit']
    ])('answers 400 naming the parameter, with no Fluent call, for ?%s', async (query, parameter) => {
      const answer = await call(gw, `/availability?${query}`)
      expectProblem(answer, 400, 'VALIDATION_FAILED', '/availability')
      expect(answer.body.errors.map((error: { path: string }) => error.path)).toContain(`/querystring/${parameter}`)
      expect(gw.sim.counters.graphqlRequests).toBe(0)
    })
  })
})
