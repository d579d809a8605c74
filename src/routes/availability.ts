// GET /availability: where a basket is available (searchVirtualInventory in the tenant's virtual catalogue), nearest first.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { virtualCatalogueRef } from '../config/tenants.js'
import { ValidationFailedError, withExtras } from '../errors.js'
import type { FluentVirtualInventory } from '../fluent/inventory.js'
import { NullableString, flattenConnection } from '../schemas/common.js'
import { problemResponses } from '../schemas/problem.js'

const MAX_PRODUCTS = 50
const ITEM = '[^,:]{1,100}(:[1-9][0-9]{0,5})?'
const COORDINATE = '-?[0-9]{1,3}(\\.[0-9]{1,12})?'

const AvailabilityQuerySchema = Type.Object({
  items: Type.String({
    minLength: 1,
    maxLength: MAX_PRODUCTS * 108,
    pattern: `^${ITEM}(,${ITEM}){0,${MAX_PRODUCTS - 1}}$`,
    description: `the basket: productRef:quantity, comma-separated, up to ${MAX_PRODUCTS} products; quantity 1 when left out`,
    examples: ['MUG-BLUE:2,CAP-BLACK']
  }),
  near: Type.Optional(Type.String({
    pattern: `^${COORDINATE},${COORDINATE}$`,
    description: 'latitude,longitude: nearest locations first',
    examples: ['-33.8688,151.2093']
  })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'most locations to answer, 1 to 100', examples: [20] })
}, { additionalProperties: false })

const AvailabilitySchema = Type.Object({
  items: Type.Array(Type.Object({
    locationRef: NullableString('location reference', 'LOC-SYD-01'),
    locationName: NullableString('location name', 'Sydney CBD Store'),
    positions: Type.Array(Type.Object({
      productRef: NullableString('product reference', 'MUG-BLUE'),
      quantity: Type.Union([Type.Integer(), Type.Null()], { description: 'quantity available to sell there', examples: [11] })
    }, { description: 'availability of one product' }), { description: 'each product of the basket' })
  }, { description: 'a location that has the whole basket' }), { description: 'locations that have the whole basket; nearest first with `near`' })
})

function invalid (parameter: string, message: string): Error {
  const path = `/querystring/${parameter}`
  return withExtras(new ValidationFailedError(`${path} ${message}`), { errors: [{ path, message }] })
}

/** `SKU-1:2,SKU-2` as Fluent's productQuantities; the schema has checked the shape, this checks for repeats. */
function parseItems (items: string): Array<{ productRef: string, quantity: number }> {
  const seen = new Set<string>()
  return items.split(',').map((item) => {
    const [productRef = '', quantity] = item.split(':')
    if (seen.has(productRef)) throw invalid('items', `names product '${productRef}' twice`)
    seen.add(productRef)
    return { productRef, quantity: quantity === undefined ? 1 : Number(quantity) }
  })
}

function parseNear (near: string | undefined): { latitude: number, longitude: number } | undefined {
  if (near === undefined) return undefined
  const [latitude, longitude] = near.split(',').map(Number) as [number, number]
  if (Math.abs(latitude) > 90) throw invalid('near', 'latitude must be between -90 and 90')
  if (Math.abs(longitude) > 180) throw invalid('near', 'longitude must be between -180 and 180')
  return { latitude, longitude }
}

function toAvailability (inventory: FluentVirtualInventory) {
  return {
    locationRef: inventory.location?.ref ?? null,
    locationName: inventory.location?.name ?? null,
    positions: (inventory.virtualPositions ?? []).filter((position) => position !== null).map((position) => ({
      productRef: position.productRef ?? null, quantity: position.quantity ?? null
    }))
  }
}

const availabilityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/availability', {
    schema: {
      tags: ['stock'],
      operationId: 'getAvailability',
      summary: 'Where a basket is available',
      description: "Sends Fluent `searchVirtualInventory(virtualCatalogue, productQuantities, orderByProximity, first)` in the tenant's virtual catalogue: " +
        'the locations that have every product in the quantity asked, nearest to `near` first when it is given.',
      querystring: AvailabilityQuerySchema,
      response: {
        200: { ...AvailabilitySchema, description: 'Locations with the basket' },
        ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const products = parseItems(request.query.items)
    const near = parseNear(request.query.near)
    const catalogueRef = virtualCatalogueRef(request.tenant)
    if (catalogueRef === undefined) {
      throw new ValidationFailedError(`tenant '${request.tenant.id}' has neither a virtual catalogue nor a retailer to default one from`)
    }
    const connection = await request.fluent.inventory.available({ virtualCatalogueRef: catalogueRef, products, near, first: request.query.limit })
    return { items: flattenConnection(connection, toAvailability).items }
  })
}

export default availabilityRoutes
