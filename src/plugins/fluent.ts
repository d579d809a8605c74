// The Fluent client (transport, token provider with L1 + Redis L2, client), and `request.fluent`: its per-request view.
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import type { FastifyRequest } from 'fastify'
import { createFluentClient, type FluentClient, type FluentClientOptions } from '../fluent/client.js'
import { requestToken } from '../fluent/oauth.js'
import { RedisTokenStore } from '../fluent/token-store.js'
import { TokenProvider } from '../fluent/tokens.js'
import type { FluentObserver } from '../fluent/observer.js'
import { createTransport, type TransportObserver } from '../fluent/transport.js'
import { fluentView, type FluentView } from '../fluent/view.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The Fluent client for this request's tenant: `request.fluent.customers.create(input)`. Made on first use. */
    readonly fluent: FluentView
  }
  interface FastifyInstance {
    /** The shared client, for work outside a request (the schema check's introspection). */
    fluentClient: FluentClient
  }
}

const VIEW = Symbol('fluent view')
type WithView = FastifyRequest & { [VIEW]?: FluentView }

/** Time this request has spent waiting on Fluent (0 when it made no call). */
export function upstreamMsOf (request: FastifyRequest): number {
  return (request as WithView)[VIEW]?.upstreamMs ?? 0
}

export default fp(async function fluentPlugin (app, opts: { config: Config, observer?: FluentObserver & TransportObserver, refuses?: FluentClientOptions['refuses'] }) {
  const { config, observer, refuses } = opts
  const transport = createTransport({
    timeoutMs: config.FLUENT_TIMEOUT_MS,
    circuit: { failureThreshold: config.FLUENT_CIRCUIT_FAILURES, coolDownMs: config.FLUENT_CIRCUIT_COOL_DOWN_MS },
    log: app.log,
    observer
  })
  const redis = app.redis
  const store = redis === undefined
    ? undefined
    : new RedisTokenStore({
      redis: redis.client,
      prefix: config.REDIS_KEY_PREFIX,
      health: redis.health,
      ...(config.TOKEN_ENCRYPTION_KEY === undefined ? {} : { encryptionKey: Buffer.from(config.TOKEN_ENCRYPTION_KEY, 'base64') })
    })
  const tokens = new TokenProvider({
    fetchToken: async (tenant, refreshToken, signal) => await requestToken(transport, tenant, refreshToken, signal),
    ...(store === undefined || redis === undefined ? {} : { store, storeUsable: () => redis.health.usable() }),
    // Half the call deadline at most: when a lock holder dies, waiters still have time to fetch a token themselves.
    lockTtlMs: Math.min(Math.ceil(config.FLUENT_TIMEOUT_MS / 2), 10_000),
    authFailureBackoffMs: config.TOKEN_FAILURE_BACKOFF_MS,
    log: app.log,
    observer
  })
  const client = createFluentClient({ transport, tokens, timeoutMs: config.FLUENT_TIMEOUT_MS, observer, refuses })
  app.decorate('fluentClient', client)

  app.decorateRequest('fluent', {
    getter (this: WithView): FluentView {
      // Auth has chosen the tenant by the time a handler asks.
      this[VIEW] ??= fluentView(client, this.tenant, this.id)
      return this[VIEW]
    }
  })
  app.addHook('onClose', async () => { await client.close() })
}, { name: 'fluent', dependencies: ['redis'] })
