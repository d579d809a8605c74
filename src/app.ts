// buildApp(config): the whole gateway wiring, in order: errors, redis, metrics, logs, protection, rate limit, fluent, auth, docs, routes.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Ajv, type Options as AjvOptions } from 'ajv'
import formats from 'ajv-formats'
import fp from 'fastify-plugin'
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config/index.js'
import accessLogPlugin from './plugins/access-log.js'
import authPlugin from './plugins/auth.js'
import errorsPlugin from './plugins/errors.js'
import fluentPlugin from './plugins/fluent.js'
import metricsPlugin from './plugins/metrics.js'
import openapiPlugin from './plugins/openapi.js'
import protectionPlugin from './plugins/protection.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import redisPlugin from './plugins/redis.js'
import webhooksPlugin, { type WebhooksPluginOptions } from './plugins/webhooks.js'
import { ProblemSchema } from './schemas/problem.js'
import customerRoutes, { CustomerSchema } from './routes/customers.js'
import graphqlRoutes from './routes/graphql.js'
import healthRoutes from './routes/health.js'
import meRoutes, { UserSchema } from './routes/me.js'
import productRoutes, { ProductSchema } from './routes/products.js'
import webhookRoutes from './routes/webhooks.js'

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on .default.
const addFormats = formats as unknown as typeof formats.default

export interface BuildOptions {
  /** Where logs go (tests capture them); stdout when not given. */
  logStream?: NodeJS.WritableStream
  /** Webhook forwarding timings (tests shorten them). */
  webhookForwarding?: WebhooksPluginOptions['forwarding']
}

/** Pino paths that can hold a secret; explicit paths (no wildcards) keep redaction cheap on the hot path. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie',
  'headers.authorization', 'headers["x-api-key"]', 'password', 'clientSecret', 'client_secret',
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'apiKey', 'tenant.fluent', 'tenant.webhooks'
]

/** A caller's x-request-id is kept when it is short and plain; anything else gets a fresh UUID. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

function requestId (request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
}

/** plugins/access-log.ts writes one line per request instead of Fastify's two; Fastify's error-only lines stay. */
class AccessLogController extends LogController {
  override incomingRequest (): void {}
  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) super.requestCompleted(error, request, reply)
  }
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  // Bodies are validated strictly (no type coercion, unknown properties refused); query strings and params are text, so they coerce.
  const ajv = (coerceTypes: AjvOptions['coerceTypes']): Ajv => {
    const instance = new Ajv({ allErrors: true, coerceTypes, useDefaults: true, removeAdditional: false, strict: false })
    addFormats(instance)
    return instance
  }
  const strict = ajv(false)
  const coercing = ajv('array')

  const app = Fastify({
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(options.logStream === undefined ? {} : { stream: options.logStream })
    },
    genReqId: requestId,
    requestIdHeader: false,
    logController: new AccessLogController(),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // HEAD on a GET route would make a real Fluent call to send no body.
    exposeHeadRoutes: false,
    // A request that reaches a closing server on a kept-alive connection is still served (with Connection: close):
    // Fastify's own 503 for it would be neither problem+json nor necessary.
    return503OnClosing: false,
    forceCloseConnections: 'idle'
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema))
  // Shared schemas live in the root context: Fastify rebuilds a child context's validator with its default
  // compiler when that child adds schemas, which would undo the strict compiler above.
  for (const schema of [ProblemSchema, UserSchema, CustomerSchema, ProductSchema]) app.addSchema(schema)
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })

  await app.register(errorsPlugin)
  await app.register(redisPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(accessLogPlugin)
  // Shedding comes before auth so an overloaded process spends nothing on requests it refuses.
  await app.register(protectionPlugin, { config })
  await app.register(rateLimitPlugin, { config })
  await app.register(fluentPlugin, { config, observer: app.metrics.fluentObserver })
  await app.register(authPlugin, { tenants: config.tenants })
  await app.register(webhooksPlugin, { config, forwarding: options.webhookForwarding })
  await app.register(openapiPlugin)

  // Not encapsulated: health decorates the app with `draining`, which server.ts sets on SIGTERM; inside its own
  // context /readyz would read a shadowing copy that stays false.
  await app.register(fp(healthRoutes, { name: 'health-routes' }))
  await app.register(meRoutes)
  await app.register(customerRoutes)
  await app.register(productRoutes)
  await app.register(graphqlRoutes)
  await app.register(webhookRoutes, { tenants: config.tenants })

  return app
}
