// Fluent's webhooks: the signed receiver (POST /webhooks/fluent/{tenant}) and the outbox legacy systems read and ack.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyError } from 'fastify'
import type { Tenant } from '../config/tenants.js'
import { NotFoundError, SignatureInvalidError, UnavailableError, ValidationFailedError, withExtras } from '../errors.js'
import { ProblemSchema, problemResponses } from '../schemas/problem.js'
import { PageSchema } from '../schemas/common.js'
import { ENTRY_ID, OutboxUnavailableError } from '../webhooks/outbox.js'
import { verifyFluentSignature } from '../webhooks/signature.js'

/** Fluent's webhooks are small; this bounds what an unauthenticated caller makes the gateway read and verify. */
const WEBHOOK_BODY_LIMIT = 256 * 1024
/** Fluent retries after 2, 4 and 8 s: ask for the first of those. */
const RETRY_AFTER_SECONDS = 2
const MAX_EVENT_ID_LENGTH = 256

const EXAMPLE_EVENT = {
  id: '7c1d1e5a-3b4f-4c1e-9f0a-2d6e8b9c0a11',
  name: 'FULFILMENT_CREATED',
  accountId: 'ACME',
  retailerId: '1',
  entityType: 'FULFILMENT',
  entityId: '5001',
  entityRef: 'F-5001',
  entityStatus: 'CREATED',
  rootEntityType: 'ORDER',
  rootEntityId: '3001',
  rootEntityRef: 'HD-3001',
  attributes: {}
}

const FluentEventSchema = Type.Object({
  id: Type.Union([Type.String(), Type.Number()], { description: 'Fluent event id: the de-duplication key', examples: [EXAMPLE_EVENT.id] }),
  name: Type.Optional(Type.String({ description: 'event name', examples: [EXAMPLE_EVENT.name] })),
  accountId: Type.Optional(Type.String({ description: 'Fluent account', examples: [EXAMPLE_EVENT.accountId] })),
  retailerId: Type.Optional(Type.String({ description: 'Fluent retailer', examples: [EXAMPLE_EVENT.retailerId] })),
  entityType: Type.Optional(Type.String({ description: 'type of the entity the event is about', examples: [EXAMPLE_EVENT.entityType] })),
  entityId: Type.Optional(Type.String({ description: 'its id', examples: [EXAMPLE_EVENT.entityId] })),
  entityRef: Type.Optional(Type.String({ description: 'its ref', examples: [EXAMPLE_EVENT.entityRef] })),
  entityStatus: Type.Optional(Type.String({ description: 'its status', examples: [EXAMPLE_EVENT.entityStatus] })),
  rootEntityType: Type.Optional(Type.String({ description: 'type of its root entity', examples: [EXAMPLE_EVENT.rootEntityType] })),
  rootEntityId: Type.Optional(Type.String({ description: 'root entity id', examples: [EXAMPLE_EVENT.rootEntityId] })),
  rootEntityRef: Type.Optional(Type.String({ description: 'root entity ref', examples: [EXAMPLE_EVENT.rootEntityRef] })),
  attributes: Type.Optional(Type.Unknown({ description: 'event attributes, as Fluent sent them', examples: [{}] }))
}, { additionalProperties: true, description: 'A Fluent webhook event, kept exactly as Fluent sent it (fields beyond these included)', examples: [EXAMPLE_EVENT] })

type FluentEvent = Static<typeof FluentEventSchema>

const ReceivedSchema = Type.Object({
  id: Type.String({ description: 'the event id', examples: [EXAMPLE_EVENT.id] }),
  duplicate: Type.Boolean({ description: 'true when this id was stored already (a retry): nothing new was stored', examples: [false] })
}, { description: 'The event is stored in the tenant\'s outbox' })

const WebhookEventSchema = Type.Object({
  id: Type.String({ description: 'Fluent event id; ack with it', examples: [EXAMPLE_EVENT.id] }),
  receivedAt: Type.String({ format: 'date-time', description: 'when the gateway stored it, ISO 8601', examples: ['2026-12-01T10:00:00.000Z'] }),
  event: FluentEventSchema
}, { description: 'One webhook in the outbox' })

const TenantParamsSchema = Type.Object({
  tenant: Type.String({ description: 'tenant id, as in the tenants file; configure this URL as the webhook URL in Fluent', examples: ['acme'] })
})

const OutboxQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'page size, 1 to 100', examples: [20] }),
  // No example: a made-up cursor skips events.
  after: Type.Optional(Type.String({ pattern: ENTRY_ID.source, maxLength: 41, description: 'opaque cursor from nextCursor of the previous page; leave out to start at the oldest event' }))
}, { additionalProperties: false })

const EventIdParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: MAX_EVENT_ID_LENGTH, description: 'Fluent event id (the id of an item of GET /webhook-events)', examples: [EXAMPLE_EVENT.id] })
})

const signatureProblem = {
  description: 'No fluent-signature header, or it does not verify with the tenant\'s webhooks.publicKey, or the tenant has none (SIGNATURE_INVALID); nothing was stored',
  content: {
    'application/problem+json': {
      schema: Type.Ref(ProblemSchema),
      example: {
        type: 'urn:fluent-rest-gateway:problem:signature-invalid',
        title: 'Webhook signature invalid',
        status: 401,
        detail: 'the fluent-signature header is missing or does not verify with this tenant\'s webhook key',
        instance: '/webhooks/fluent/acme',
        code: 'SIGNATURE_INVALID',
        requestId: '2f1c7a3e-6a1b-4f57-9e0e-7d7c0f7f3b1a'
      }
    }
  }
}

function unavailable (error: unknown): Error {
  if (error instanceof OutboxUnavailableError) {
    return withExtras(new UnavailableError('The webhook outbox (Redis) is unavailable; retry after the time in Retry-After', { cause: error }), { retryAfterSeconds: RETRY_AFTER_SECONDS })
  }
  return error as Error
}

/** The event id as a string, or undefined when the body is not a JSON object with a string or number id. */
function eventId (body: Buffer): { id: string } | { problem: string } {
  let event: unknown
  try {
    event = JSON.parse(body.toString('utf8'))
  } catch {
    return { problem: 'the body is not JSON' }
  }
  const id = typeof event === 'object' && event !== null && !Array.isArray(event) ? (event as { id?: unknown }).id : undefined
  if ((typeof id !== 'string' || id === '') && (typeof id !== 'number' || !Number.isFinite(id))) return { problem: 'the event has no string or number id' }
  const text = String(id)
  if (text.length > MAX_EVENT_ID_LENGTH) return { problem: `the event id is longer than ${MAX_EVENT_ID_LENGTH} characters` }
  return { id: text }
}

const webhookRoutes: FastifyPluginAsyncTypebox<{ tenants: Tenant[] }> = async (app, opts) => {
  const tenants = new Map(opts.tenants.map((tenant) => [tenant.id, tenant]))

  // The receiver in a context of its own: only here is the body kept as raw bytes, because the signature is over them.
  await app.register(async function receiver (untyped) {
    const scope = untyped.withTypeProvider<TypeBoxTypeProvider>()
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) => { done(null, body) })
    scope.addHook('onError', async (_request, _reply, error: FastifyError) => {
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') app.webhooks.rejected('too_large')
    })

    scope.post('/webhooks/fluent/:tenant', {
      bodyLimit: WEBHOOK_BODY_LIMIT,
      config: { public: true },
      // The body is raw bytes (a Buffer) checked by signature; the schema below documents it. The tenant is looked up by hand.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['webhooks'],
        operationId: 'receiveFluentWebhook',
        summary: 'Receive a Fluent webhook',
        description: 'Where Fluent sends a tenant\'s webhooks. Authenticated by the `fluent-signature` header (base64 SHA512withRSA of the raw body, ' +
          'checked with the tenant\'s `webhooks.publicKey`), not by an API key. The event is stored in the tenant\'s outbox, once per event `id` ' +
          '(a retry of a stored id answers 200 and stores nothing), and only then answered 200. 503 when it cannot be stored, so Fluent retries.',
        security: [],
        params: TenantParamsSchema,
        headers: Type.Object({
          'fluent-signature': Type.Optional(Type.String({ description: 'base64 SHA512withRSA signature of the raw body by the Fluent environment', examples: ['kq3nN0r5...=='] }))
        }),
        body: FluentEventSchema,
        response: {
          200: { ...ReceivedSchema, description: 'Stored (or stored already)' },
          400: problemResponses(400)[400],
          401: signatureProblem,
          ...problemResponses(413),
          503: { ...problemResponses(503)[503], description: 'The event could not be stored (Redis down or slow, or no Redis configured) or the gateway is overloaded (UNAVAILABLE): nothing was stored, Fluent retries; see Retry-After' }
        }
      }
    }, async (request) => {
      app.webhooks.received()
      const tenant = tenants.get(request.params.tenant)
      const body = request.body as unknown as Buffer | undefined
      const key = tenant?.webhooks?.publicKey
      if (tenant === undefined || key === undefined || body === undefined || !verifyFluentSignature(key, body, request.headers['fluent-signature'] as string | undefined)) {
        app.webhooks.rejected('signature')
        request.log.info({ tenant: request.params.tenant, reason: tenant === undefined ? 'unknown tenant' : key === undefined ? 'tenant has no webhooks.publicKey' : 'signature' }, 'webhook refused')
        throw new SignatureInvalidError('the fluent-signature header is missing or does not verify with this tenant\'s webhook key')
      }
      const parsed = eventId(body)
      if ('problem' in parsed) {
        app.webhooks.rejected('not_json')
        throw new ValidationFailedError(parsed.problem)
      }
      let stored
      try {
        stored = await app.webhooks.outbox.store(tenant.id, parsed.id, body.toString('utf8'))
      } catch (error) {
        app.webhooks.rejected('unavailable')
        throw unavailable(error)
      }
      if (stored.duplicate) app.webhooks.duplicate()
      else app.webhooks.stored(tenant.id)
      return { id: parsed.id, duplicate: stored.duplicate }
    })
  })

  app.get('/webhook-events', {
    schema: {
      tags: ['webhooks'],
      operationId: 'listWebhookEvents',
      summary: 'Read the webhook outbox',
      description: 'The Fluent webhooks stored for your tenant (your API key picks it), oldest first, until acked or the retention ends. ' +
        'Follow `nextCursor` (or the Link rel="next" header) with `after` for the next page.',
      querystring: OutboxQuerySchema,
      response: {
        200: {
          ...PageSchema(WebhookEventSchema, 'the events on this page, in arrival order'),
          description: 'A page of webhook events',
          headers: { link: { type: 'string', description: 'the next page, when there is one', examples: ['</webhook-events?limit=20&after=1764583200000-0>; rel="next"'] } }
        },
        ...problemResponses(400, 401, 429, 503)
      }
    }
  }, async (request, reply) => {
    const { after, limit } = request.query
    let page
    try {
      page = await app.webhooks.outbox.list(request.tenant.id, after, limit)
    } catch (error) {
      throw unavailable(error)
    }
    if (page.nextCursor !== null) {
      reply.header('link', `</webhook-events?${new URLSearchParams({ limit: String(limit), after: page.nextCursor }).toString()}>; rel="next"`)
    }
    return {
      items: page.items.map((entry) => ({ id: entry.id, receivedAt: entry.receivedAt, event: JSON.parse(entry.body) as FluentEvent })),
      nextCursor: page.nextCursor
    }
  })

  app.post('/webhook-events/:id/ack', {
    schema: {
      tags: ['webhooks'],
      operationId: 'ackWebhookEvent',
      summary: 'Remove an event from the outbox',
      description: 'Acknowledges one webhook event: it leaves your outbox (and is no longer forwarded). A later Fluent retry of the same id is still recognised and not stored again.',
      params: EventIdParamsSchema,
      response: {
        204: { type: 'null', description: 'Removed' },
        ...problemResponses(400, 401, 404, 429, 503)
      }
    }
  }, async (request, reply) => {
    let removed
    try {
      removed = await app.webhooks.outbox.ack(request.tenant.id, request.params.id)
    } catch (error) {
      throw unavailable(error)
    }
    if (!removed) throw new NotFoundError(`webhook event ${request.params.id} is not in the outbox`)
    return await reply.code(204).send()
  })
}

export default webhookRoutes
