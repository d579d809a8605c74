// POST /events: one Fluent event (Event API), sync (Fluent runs the workflow before answering) or async.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Tenant } from '../config/tenants.js'
import { ForbiddenError, ValidationFailedError, withExtras } from '../errors.js'
import type { FluentEvent } from '../fluent/events.js'
import { defined } from '../schemas/common.js'
import { problemResponses } from '../schemas/problem.js'

const Name = (description: string, example: string) => Type.String({ minLength: 1, maxLength: 255, description, examples: [example] })

const EventBodySchema = Type.Object({
  name: Name('event name: the ruleset it triggers', 'PICK_CONFIRMED'),
  entityType: Name('the entity the event is on, e.g. ORDER, FULFILMENT, LOCATION, INVENTORY_CATALOGUE', 'FULFILMENT'),
  entityRef: Type.Optional(Name('the entity\'s ref (exactly one of entityRef and entityId)', 'DEMO-ORDER-1-F1')),
  entityId: Type.Optional(Name('the entity\'s id (exactly one of entityRef and entityId)', '1001')),
  entitySubtype: Type.Optional(Name('the entity\'s type, e.g. HD_PFS', 'HD_PFS')),
  rootEntityType: Type.Optional(Name('the root entity\'s type, e.g. ORDER', 'ORDER')),
  rootEntityRef: Type.Optional(Name('the root entity\'s ref (at most one of rootEntityRef and rootEntityId)', 'DEMO-ORDER-1')),
  rootEntityId: Type.Optional(Name('the root entity\'s id (at most one of rootEntityRef and rootEntityId)', '1')),
  attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: 'the event\'s attributes, sent as they are', examples: [{ trackingNumber: 'TRK-0001' }]
  }))
}, {
  additionalProperties: false,
  description: 'A Fluent event; retailerId is the tenant\'s',
  examples: [{ name: 'PICK_CONFIRMED', entityType: 'FULFILMENT', entityRef: 'DEMO-ORDER-1-F1', rootEntityType: 'ORDER', rootEntityRef: 'DEMO-ORDER-1', attributes: { pickedBy: 'store-7' } }]
})

const EventQuerySchema = Type.Object({
  mode: Type.Union([Type.Literal('sync'), Type.Literal('async')], {
    default: 'sync', description: 'sync: Fluent runs the workflow before answering; async: queued', examples: ['sync']
  })
}, { additionalProperties: false })

const SyncAnswerSchema = Type.Object({
  eventId: Type.String({ description: 'Fluent event id', examples: ['09cb96b0-4247-11ea-9156-2d5aab27a8a1'] }),
  entityId: Type.Union([Type.String(), Type.Null()], { description: 'id of the entity the event ran on', examples: ['143'] }),
  eventStatus: Type.Union([Type.String(), Type.Null()], { description: 'how it ended, e.g. COMPLETE', examples: ['COMPLETE'] })
}, { description: 'Fluent ran the event' })

const AsyncAnswerSchema = Type.Object({
  eventId: Type.String({ description: 'Fluent event id', examples: ['09cb96b0-4247-11ea-9156-2d5aab27a8a1'] })
}, { description: 'Fluent queued the event' })

type EventBody = Static<typeof EventBodySchema>

function toFluentEvent (body: EventBody, tenant: Tenant): FluentEvent {
  if ((body.entityRef === undefined) === (body.entityId === undefined)) {
    throw withExtras(new ValidationFailedError('give exactly one of entityRef and entityId'), {
      errors: [{ path: '/body/entityRef', message: 'exactly one of entityRef and entityId is required' }]
    })
  }
  if (body.rootEntityRef !== undefined && body.rootEntityId !== undefined) {
    throw withExtras(new ValidationFailedError('give at most one of rootEntityRef and rootEntityId'), {
      errors: [{ path: '/body/rootEntityRef', message: 'at most one of rootEntityRef and rootEntityId may be given' }]
    })
  }
  const retailerId = tenant.fluent.retailerId
  if (retailerId === undefined) throw new ValidationFailedError(`tenant '${tenant.id}' has no retailerId for its events`)
  const { name, entityType, ...optional } = body
  return { name, retailerId, entityType, ...defined(optional) }
}

const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/events', {
    config: { idempotency: {} },
    schema: {
      tags: ['events'],
      operationId: 'sendEvent',
      summary: 'Send a Fluent event',
      description: 'Sends the event to Fluent\'s Event API (`/event/sync` by default, `/event/async` with `mode=async`) with the tenant\'s ' +
        'retailerId; never retried once sent. 403 for a tenant with `allowMutations: false`.',
      querystring: EventQuerySchema,
      body: EventBodySchema,
      response: {
        200: SyncAnswerSchema,
        202: AsyncAnswerSchema,
        ...problemResponses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    if (!request.tenant.graphql.allowMutations) throw new ForbiddenError('this tenant may not send events (allowMutations: false)')
    const mode = request.query.mode
    const answer = await request.fluent.events.send(toFluentEvent(request.body, request.tenant), mode)
    if (mode === 'async') return await reply.code(202).send({ eventId: answer.eventId })
    return { eventId: answer.eventId, entityId: answer.entityId ?? null, eventStatus: answer.eventStatus ?? null }
  })
}

export default eventRoutes
