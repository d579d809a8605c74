// /fulfilments: list fulfilments (by location, status, last change; paged), read one by id.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../errors.js'
import type { FluentFulfilment } from '../fluent/fulfilments.js'
import { PageQuerySchema, PageSchema, flattenConnection } from '../schemas/common.js'
import { FulfilmentSchema, type Fulfilment } from '../schemas/fulfilment.js'
import { problemResponses } from '../schemas/problem.js'
import { CommaListSchema, linkHeader, RefSchema, UpdatedSinceSchema, linkNext, splitList } from '../schemas/query.js'

const FulfilmentParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Fluent fulfilment id', examples: ['1'] })
})

const FulfilmentQuerySchema = Type.Object({
  locationRef: Type.Optional(RefSchema('only fulfilments from this location', 'LOC-SYD-01')),
  status: Type.Optional(CommaListSchema({ description: 'only fulfilments in these statuses', example: 'CREATED,AWAITING_WAVE', maxItems: 20, itemLength: 50 })),
  updatedSince: Type.Optional(UpdatedSinceSchema),
  ...PageQuerySchema
}, { additionalProperties: false })

function toFulfilment (fulfilment: FluentFulfilment): Fulfilment {
  return {
    id: fulfilment.id,
    ref: fulfilment.ref ?? null,
    status: fulfilment.status ?? null,
    type: fulfilment.type,
    deliveryType: fulfilment.deliveryType ?? null,
    orderRef: fulfilment.order?.ref ?? null,
    locationRef: fulfilment.fromLocation?.ref ?? null,
    items: flattenConnection(fulfilment.items, (item) => ({
      id: item.id,
      ref: item.ref ?? null,
      status: item.status,
      orderItemRef: item.orderItem?.ref ?? null,
      productRef: item.orderItem?.product?.ref ?? null,
      requestedQuantity: item.requestedQuantity ?? null,
      filledQuantity: item.filledQuantity,
      rejectedQuantity: item.rejectedQuantity
    })).items,
    createdOn: fulfilment.createdOn ?? null,
    updatedOn: fulfilment.updatedOn ?? null
  }
}

const fulfilmentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/fulfilments', {
    schema: {
      tags: ['fulfilments'],
      operationId: 'listFulfilments',
      summary: 'List fulfilments',
      description: 'Sends Fluent `fulfilments(fromLocation, status, updatedOn, first, after)`: what a location has to pick, pack or ship. Follow `nextCursor` (or the Link rel="next" header) for the next page.',
      querystring: FulfilmentQuerySchema,
      response: {
        200: { ...PageSchema(Type.Ref(FulfilmentSchema), 'the fulfilments on this page'), description: 'A page of fulfilments', headers: linkHeader('</fulfilments?locationRef=LOC-SYD-01&limit=20&cursor=Y3Vyc29yOjEwMjA%3D>; rel="next"') },
        ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { locationRef, status, updatedSince, limit, cursor } = request.query
    const connection = await request.fluent.fulfilments.find({ locationRef, status: splitList(status), updatedSince, first: limit, after: cursor })
    const page = flattenConnection(connection, toFulfilment)
    linkNext(reply, '/fulfilments', request.query, page.nextCursor)
    return page
  })

  app.get('/fulfilments/:id', {
    schema: {
      tags: ['fulfilments'],
      operationId: 'getFulfilment',
      summary: 'Read a fulfilment',
      description: 'Sends Fluent `fulfilmentById`, with its items (requested, filled and rejected quantities), its order ref and the location it ships from; 404 when Fluent has none.',
      params: FulfilmentParamsSchema,
      response: {
        200: { ...Type.Ref(FulfilmentSchema), description: 'The fulfilment' },
        ...problemResponses(400, 401, 403, 404, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const fulfilment = await request.fluent.fulfilments.byId(request.params.id)
    if (fulfilment === null) throw new NotFoundError(`fulfilment ${request.params.id} does not exist`)
    return toFulfilment(fulfilment)
  })
}

export default fulfilmentRoutes
