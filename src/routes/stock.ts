// GET /stock: stock on hand per product and location, in the tenant's inventory catalogue (paged).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { inventoryCatalogueRef } from '../config/tenants.js'
import { ValidationFailedError } from '../errors.js'
import type { FluentInventoryPosition } from '../fluent/inventory.js'
import { NullableString, PageQuerySchema, PageSchema, flattenConnection } from '../schemas/common.js'
import { problemResponses } from '../schemas/problem.js'
import { CommaListSchema, linkHeader, linkNext, splitList } from '../schemas/query.js'

const StockPositionSchema = Type.Object({
  productRef: Type.String({ description: 'product reference', examples: ['MUG-BLUE'] }),
  locationRef: NullableString('location reference', 'LOC-SYD-01'),
  onHand: Type.Union([Type.Integer(), Type.Null()], { description: 'quantity on hand', examples: [12] }),
  status: NullableString('Fluent status of the position', 'ACTIVE'),
  updatedOn: NullableString('last change, ISO 8601', '2026-11-26T10:00:00.000Z')
}, { description: 'stock of one product at one location' })

const StockQuerySchema = Type.Object({
  productRef: Type.Optional(CommaListSchema({ description: 'only these products', example: 'MUG-BLUE,CAP-BLACK', maxItems: 100 })),
  locationRef: Type.Optional(CommaListSchema({ description: 'only these locations', example: 'LOC-SYD-01', maxItems: 100 })),
  ...PageQuerySchema
}, { additionalProperties: false })

function toStockPosition (position: FluentInventoryPosition) {
  return {
    productRef: position.productRef,
    locationRef: position.locationRef ?? null,
    onHand: position.onHand ?? null,
    status: position.status ?? null,
    updatedOn: position.updatedOn ?? null
  }
}

const stockRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/stock', {
    schema: {
      tags: ['stock'],
      operationId: 'listStock',
      summary: 'Stock on hand',
      description: "Sends Fluent `inventoryPositions(productRef, locationRef, catalogue, first, after)` in the tenant's inventory catalogue. " +
        'Follow `nextCursor` (or the Link rel="next" header) for the next page.',
      querystring: StockQuerySchema,
      response: {
        200: { ...PageSchema(StockPositionSchema, 'the positions on this page'), description: 'A page of stock positions', headers: linkHeader('</stock?locationRef=LOC-SYD-01&limit=20&cursor=Y3Vyc29yOjEwMjA%3D>; rel="next"') },
        ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { productRef, locationRef, limit, cursor } = request.query
    const catalogueRef = inventoryCatalogueRef(request.tenant)
    if (catalogueRef === undefined) {
      throw new ValidationFailedError(`tenant '${request.tenant.id}' has neither an inventory catalogue nor a retailer to default one from`)
    }
    const connection = await request.fluent.inventory.positions({
      catalogueRef, productRefs: splitList(productRef), locationRefs: splitList(locationRef), first: limit, after: cursor
    })
    const page = flattenConnection(connection, toStockPosition)
    linkNext(reply, '/stock', request.query, page.nextCursor)
    return page
  })
}

export default stockRoutes
