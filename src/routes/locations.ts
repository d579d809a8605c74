// /locations: list the account's locations (paged), read one by ref.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../errors.js'
import type { FluentLocation } from '../fluent/locations.js'
import { PageQuerySchema, PageSchema, flattenConnection } from '../schemas/common.js'
import { LocationSchema, type Location } from '../schemas/location.js'
import { problemResponses } from '../schemas/problem.js'
import { linkHeader, RefSchema, linkNext } from '../schemas/query.js'

const LocationParamsSchema = Type.Object({ ref: RefSchema('location reference', 'LOC-SYD-01') })

const LocationQuerySchema = Type.Object({ ...PageQuerySchema }, { additionalProperties: false })

function toLocation (location: FluentLocation): Location {
  const address = location.primaryAddress
  return {
    id: location.id,
    ref: location.ref ?? null,
    name: location.name ?? null,
    type: location.type ?? null,
    status: location.status ?? null,
    // An address of a type the fragment does not name comes back as {}: no address the caller could use.
    address: address == null || Object.keys(address).length === 0
      ? null
      : {
          companyName: address.companyName ?? null,
          name: address.name ?? null,
          street: address.street ?? null,
          street2: address.street2 ?? null,
          city: address.city ?? null,
          state: address.state ?? null,
          postcode: address.postcode ?? null,
          region: address.region ?? null,
          country: address.country ?? null,
          latitude: address.latitude ?? null,
          longitude: address.longitude ?? null,
          timeZone: address.timeZone ?? null
        },
    createdOn: location.createdOn ?? null,
    updatedOn: location.updatedOn ?? null
  }
}

const locationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/locations', {
    schema: {
      tags: ['locations'],
      operationId: 'listLocations',
      summary: 'List locations',
      description: 'Sends Fluent `locations(first, after)`. Follow `nextCursor` (or the Link rel="next" header) for the next page.',
      querystring: LocationQuerySchema,
      response: {
        200: { ...PageSchema(Type.Ref(LocationSchema), 'the locations on this page'), description: 'A page of locations', headers: linkHeader('</locations?limit=20&cursor=Y3Vyc29yOjEwMjA%3D>; rel="next"') },
        ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { limit, cursor } = request.query
    const page = flattenConnection(await request.fluent.locations.find({ first: limit, after: cursor }), toLocation)
    linkNext(reply, '/locations', request.query, page.nextCursor)
    return page
  })

  app.get('/locations/:ref', {
    schema: {
      tags: ['locations'],
      operationId: 'getLocation',
      summary: 'Read a location by ref',
      description: 'Sends Fluent `location(ref:)`, with its primary address; 404 when Fluent has none.',
      params: LocationParamsSchema,
      response: {
        200: { ...Type.Ref(LocationSchema), description: 'The location' },
        ...problemResponses(400, 401, 403, 404, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const location = await request.fluent.locations.byRef(request.params.ref)
    if (location === null) throw new NotFoundError(`location ${request.params.ref} does not exist`)
    return toLocation(location)
  })
}

export default locationRoutes
