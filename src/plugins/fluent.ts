// Decorates the app with the Fluent client: transport, token provider (L1 + Redis L2) and the client itself.
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { createFluentClient, type CallContext, type FluentClient } from '../fluent/client.js'
import { requestToken } from '../fluent/oauth.js'
import { RedisTokenStore } from '../fluent/token-store.js'
import { TokenProvider } from '../fluent/tokens.js'
import type { FluentObserver } from '../fluent/observer.js'
import { createTransport, type TransportObserver } from '../fluent/transport.js'

declare module 'fastify' {
  interface FastifyInstance {
    fluent: FluentClient
    tokens: TokenProvider
  }
  interface FastifyRequest {
    /** Passed to every Fluent call of this request: its id goes to Fluent, upstream time comes back for the log. */
    fluentContext: CallContext
  }
}

export default fp(async function fluentPlugin (app, opts: { config: Config, observer?: FluentObserver & TransportObserver }) {
  const { config, observer } = opts
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
  const client = createFluentClient({ transport, tokens, timeoutMs: config.FLUENT_TIMEOUT_MS, observer })

  app.decorate('fluent', client)
  app.decorateRequest('fluentContext', null as unknown as CallContext)
  app.addHook('onRequest', async (request) => {
    request.fluentContext = { requestId: request.id, upstreamMs: 0 }
  })
  app.decorate('tokens', tokens)
  app.addHook('onClose', async () => { await client.close() })
}, { name: 'fluent', dependencies: ['redis'] })
