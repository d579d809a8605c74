// buildApp(config): the whole gateway wiring, registrations only, in the order their hooks run on a request.
import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config/index.js'
import { loggingOptions } from './logging.js'
import accessLogPlugin from './plugins/access-log.js'
import allowedMethodsPlugin from './plugins/allowed-methods.js'
import authPlugin from './plugins/auth.js'
import bodyParserPlugin from './plugins/body-parser.js'
import clientErrorsPlugin, { clientErrorOptions } from './plugins/client-errors.js'
import errorsPlugin from './plugins/errors.js'
import fluentPlugin from './plugins/fluent.js'
import idempotencyPlugin from './plugins/idempotency.js'
import lifecyclePlugin from './plugins/lifecycle.js'
import metricsPlugin from './plugins/metrics.js'
import openapiPlugin from './plugins/openapi.js'
import protectionPlugin from './plugins/protection.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import redisPlugin from './plugins/redis.js'
import requestIdPlugin from './plugins/request-id.js'
import schemaCheckPlugin from './plugins/schema-check.js'
import upstreamFailuresPlugin from './plugins/upstream-failures.js'
import validationPlugin from './plugins/validation.js'
import webhooksPlugin, { type WebhooksPluginOptions } from './plugins/webhooks.js'
import availabilityRoutes from './routes/availability.js'
import customerRoutes from './routes/customers.js'
import customRoutes from './routes/custom.js'
import eventRoutes from './routes/events.js'
import fulfilmentRoutes from './routes/fulfilments.js'
import graphqlRoutes from './routes/graphql.js'
import healthRoutes from './routes/health.js'
import locationRoutes from './routes/locations.js'
import meRoutes from './routes/me.js'
import orderRoutes from './routes/orders.js'
import productRoutes from './routes/products.js'
import stockLoadRoutes from './routes/stock-loads.js'
import stockRoutes from './routes/stock.js'
import webhookRoutes from './routes/webhooks.js'

export interface BuildOptions {
  /** Where logs go (tests capture them); stdout when not given. */
  logStream?: NodeJS.WritableStream
  /** Webhook forwarding timings (tests shorten them). */
  webhookForwarding?: WebhooksPluginOptions['forwarding']
}

export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...loggingOptions(config, options.logStream),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // HEAD on a GET route would make a real Fluent call to send no body.
    exposeHeadRoutes: false,
    // A request that reaches a closing server on a kept-alive connection is still served (with Connection: close):
    // Fastify's own 503 for it would be neither problem+json nor necessary.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Malformed HTTP, oversized headers and undecodable URLs are answered as problem+json too.
    ...clientErrorOptions
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Every answer, error or not: problem+json rendering, validation, shutdown state.
  await app.register(errorsPlugin)
  // First of the onRequest hooks: every answer carries its request id, the ones refused by the next hooks too.
  await app.register(requestIdPlugin)
  // Before every route: its onRoute hook learns which methods each path has (405 with Allow).
  await app.register(allowedMethodsPlugin)
  await app.register(validationPlugin)
  await app.register(bodyParserPlugin)
  await app.register(clientErrorsPlugin)
  await app.register(lifecyclePlugin)
  // onRequest, in order: security headers and load shedding (before auth, so an overloaded process spends nothing on
  // requests it refuses), auth (chooses the tenant), then the per-key rate limit (a route-level hook).
  await app.register(redisPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(upstreamFailuresPlugin)
  await app.register(accessLogPlugin)
  await app.register(protectionPlugin, { config })
  await app.register(authPlugin, { tenants: config.tenants })
  await app.register(rateLimitPlugin, { config })
  // The schema check comes first: the client consults it before every call; it introspects once the app is ready.
  await app.register(schemaCheckPlugin, { config })
  await app.register(fluentPlugin, { config, observer: app.metrics.fluentObserver, refuses: (tenant, operation, query) => app.schemaCheck.refuses(tenant, operation, query) })
  await app.register(webhooksPlugin, { config, forwarding: options.webhookForwarding })
  // Before openapi and the routes: its onRoute hook documents and wires each route that opts in.
  await app.register(idempotencyPlugin, { config })
  await app.register(openapiPlugin)

  await app.register(healthRoutes)
  await app.register(meRoutes)
  await app.register(customerRoutes)
  await app.register(productRoutes)
  await app.register(orderRoutes)
  await app.register(fulfilmentRoutes)
  await app.register(locationRoutes)
  await app.register(stockRoutes)
  await app.register(availabilityRoutes)
  await app.register(stockLoadRoutes, { config })
  await app.register(eventRoutes)
  await app.register(graphqlRoutes)
  await app.register(webhookRoutes, { tenants: config.tenants })
  await app.register(customRoutes, { routes: config.routes ?? [] })

  return app
}
