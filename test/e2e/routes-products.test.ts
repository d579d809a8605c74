// End-to-end tests of POST /products over real HTTP: defaults from the tenant, price and category mapping, what Fluent received.
import { describe, expect, inject, it } from 'vitest'
import { call, type Answer } from '../helpers/call.js'
import { newApiKey, useGateway } from '../helpers/gateway.js'

describe('POST /products', () => {
  const noCatalogueKey = newApiKey()

  /** POST /products with the key sent as X-API-Key (acme's by default). */
  async function post (body: unknown, apiKey = gw.apiKey): Promise<Answer> {
    return await call(gw, '/products', { body, apiKey: null, headers: { 'x-api-key': apiKey } })
  }

  function sentInputs (): unknown[] {
    return gw.sim.requests.filter((request) => request.operationName === 'CreateStandardProduct')
      .map((request) => (request.variables as { input: unknown }).input)
  }

  const gw = useGateway(() => ({
    redisUrl: inject('redisUrl'),
    tenants: [{ id: 'acme', apiKey: newApiKey() }, { id: 'nocat', apiKey: noCatalogueKey, catalogueRef: null }]
  }))

  it('creates a product in the tenant\'s catalogue with type STANDARD, sending no optional field', async () => {
    const answer = await post({ ref: 'SKU-1', name: 'Trail Runner', gtin: '09312345678907' })

    expect(answer.status).toBe(201)
    expect(answer.body).toMatchObject({
      ref: 'SKU-1',
      name: 'Trail Runner',
      gtin: '09312345678907',
      type: 'STANDARD',
      catalogueRef: 'PC:MASTER:1',
      summary: null,
      prices: [],
      attributes: []
    })
    expect(answer.body.id).toEqual(expect.any(String))
    expect(sentInputs()).toEqual([{ ref: 'SKU-1', name: 'Trail Runner', gtin: '09312345678907', type: 'STANDARD', catalogue: { ref: 'PC:MASTER:1' } }])
  })

  it('turns price into prices with type RRP and categories into keys in the same catalogue', async () => {
    const attributes = [{ name: 'colour', type: 'STRING', value: 'red' }]
    const answer = await post({
      ref: 'SKU-2',
      name: 'Road Runner',
      gtin: '09312345678914',
      summary: 'Fast',
      type: 'SHOE',
      price: { value: 19.95, currency: 'AUD' },
      categories: ['SHOES', 'SALE'],
      attributes
    })

    expect(answer.status).toBe(201)
    expect(answer.body).toMatchObject({ type: 'SHOE', summary: 'Fast', prices: [{ type: 'RRP', currency: 'AUD', value: 19.95 }], attributes })
    expect(sentInputs()).toEqual([{
      ref: 'SKU-2',
      name: 'Road Runner',
      gtin: '09312345678914',
      summary: 'Fast',
      type: 'SHOE',
      catalogue: { ref: 'PC:MASTER:1' },
      prices: [{ type: 'RRP', currency: 'AUD', value: 19.95 }],
      categories: [{ ref: 'SHOES', catalogue: { ref: 'PC:MASTER:1' } }, { ref: 'SALE', catalogue: { ref: 'PC:MASTER:1' } }],
      attributes
    }])
  })

  it('sends several prices as given, defaulting only a missing price type', async () => {
    const answer = await post({
      ref: 'SKU-3',
      name: 'Sandal',
      gtin: '1',
      prices: [{ value: 10, currency: 'AUD', type: 'SALE' }, { value: 12.5, currency: 'NZD' }]
    })

    expect(answer.status).toBe(201)
    expect(sentInputs()).toEqual([expect.objectContaining({
      prices: [{ type: 'SALE', currency: 'AUD', value: 10 }, { type: 'RRP', currency: 'NZD', value: 12.5 }]
    })])
  })

  it('answers 400 and calls nothing when both price and prices are given', async () => {
    const answer = await post({
      ref: 'SKU-4', name: 'Boot', gtin: '2', price: { value: 1, currency: 'AUD' }, prices: [{ value: 1, currency: 'AUD' }]
    })

    expect(answer.status).toBe(400)
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(answer.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', detail: expect.stringContaining('price') })
    expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
  })

  it('answers 400 and calls nothing when the tenant has no default catalogue and the body names none', async () => {
    const answer = await post({ ref: 'SKU-5', name: 'Clog', gtin: '3' }, noCatalogueKey)

    expect(answer.status).toBe(400)
    expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining('catalogueRef') })
    expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
  })

  it('uses the catalogue the body names for a tenant without a default', async () => {
    const answer = await post({ ref: 'SKU-6', name: 'Clog', gtin: '3', catalogueRef: 'PC:MASTER:1', categories: ['C1'] }, noCatalogueKey)

    expect(answer.status).toBe(201)
    expect(answer.body.catalogueRef).toBe('PC:MASTER:1')
    expect(sentInputs()).toEqual([expect.objectContaining({
      catalogue: { ref: 'PC:MASTER:1' }, categories: [{ ref: 'C1', catalogue: { ref: 'PC:MASTER:1' } }]
    })])
  })

  it('answers 409 CONFLICT when Fluent already has the ref in that catalogue', async () => {
    expect((await post({ ref: 'SKU-7', name: 'A', gtin: '4' })).status).toBe(201)
    const answer = await post({ ref: 'SKU-7', name: 'B', gtin: '5' })

    expect(answer.status).toBe(409)
    expect(answer.body).toMatchObject({ code: 'CONFLICT', upstream: { status: 200, codes: expect.arrayContaining(['C0121E']) } })
    expect(gw.sim.counters.graphqlRequests).toBe(2)
  })

  it('answers 404 NOT_FOUND when Fluent has no such catalogue', async () => {
    const answer = await post({ ref: 'SKU-8', name: 'A', gtin: '4', catalogueRef: 'PC:NOPE' })

    expect(answer.status).toBe(404)
    expect(answer.body).toMatchObject({ code: 'NOT_FOUND', upstream: { codes: expect.arrayContaining(['C0120E']) } })
  })
})
