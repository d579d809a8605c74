// buildApp(config): the whole gateway wiring, registrations only, in the order their hooks run on a request.
import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './config/index.js'
import { loggingOptions } from './logging.js'
import accessLogPlugin from './plugins/access-log.js'
import authPlugin from './plugins/auth.js'
import errorsPlugin from './plugins/errors.js'
import fluentPlugin from './plugins/fluent.js'
import lifecyclePlugin from './plugins/lifecycle.js'
import metricsPlugin from './plugins/metrics.js'
import openapiPlugin from './plugins/openapi.js'
import protectionPlugin from './plugins/protection.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import redisPlugin from './plugins/redis.js'
import requestIdPlugin from './plugins/request-id.js'
import validationPlugin from './plugins/validation.js'
import customerRoutes from './routes/customers.js'
import eventRoutes from './routes/events.js'
import graphqlRoutes from './routes/graphql.js'
import healthRoutes from './routes/health.js'
import meRoutes from './routes/me.js'
import productRoutes from './routes/products.js'
import stockLoadRoutes from './routes/stock-loads.js'

export interface BuildOptions {
  /** Where logs go (tests capture them); stdout when not given. */
  logStream?: NodeJS.WritableStream
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
    forceCloseConnections: 'idle'
  }).withTypeProvider<TypeBoxTypeProvider>()

  // Every answer, error or not: problem+json rendering, validation, shutdown state.
  await app.register(errorsPlugin)
  await app.register(validationPlugin)
  await app.register(lifecyclePlugin)
  // onRequest, in order: request id, security headers and load shedding (before auth, so an overloaded process spends
  // nothing on requests it refuses), auth (chooses the tenant), then the per-key rate limit (a route-level hook).
  await app.register(requestIdPlugin)
  await app.register(redisPlugin, { config })
  await app.register(metricsPlugin)
  await app.register(accessLogPlugin)
  await app.register(protectionPlugin, { config })
  await app.register(authPlugin, { tenants: config.tenants })
  await app.register(rateLimitPlugin, { config })
  await app.register(fluentPlugin, { config, observer: app.metrics.fluentObserver })
  await app.register(openapiPlugin)

  await app.register(healthRoutes)
  await app.register(meRoutes)
  await app.register(customerRoutes)
  await app.register(productRoutes)
  await app.register(graphqlRoutes)
  await app.register(stockLoadRoutes, { config })
  await app.register(eventRoutes)

  return app
}
