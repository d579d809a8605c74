// Per-API-key rate limit: counted in each process and shared through Redis every RATE_LIMIT_SYNC_MS, so no request waits on Redis.
import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import type { Tenant } from '../config/tenants.js'
import { RateLimitedError, withExtras } from '../errors.js'
import { SharedWindows, type Callback } from '../redis/shared-windows.js'

export default fp(async function rateLimitPlugin (app, opts: { config: Config }) {
  const { RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS, RATE_LIMIT_SYNC_MS, REDIS_KEY_PREFIX } = opts.config
  if (RATE_LIMIT_MAX === 0) return

  const windows = new SharedWindows(app.redis, `${REDIS_KEY_PREFIX}ratelimit:`)
  windows.start(RATE_LIMIT_SYNC_MS)
  app.addHook('onClose', async () => { windows.stop() })

  await app.register(rateLimit, {
    max: RATE_LIMIT_MAX,
    timeWindow: RATE_LIMIT_WINDOW_MS,
    // Route-level onRequest hooks run after the global ones, so auth has already chosen the tenant.
    hook: 'onRequest',
    // Per caller key, never per IP: replicas sit behind load balancers and many callers share a NAT.
    keyGenerator: (request) => {
      const tenant = request.tenant as Tenant | null
      if (tenant === null) return ''
      // auth has already hashed the key; whichever header carried it, one key draws on one budget.
      return `${tenant.id}:${request.apiKeyDigest.slice(0, 32)}`
    },
    // Public routes (health, docs, metrics) and unknown routes carry no tenant: they are not limited.
    allowList: (_request, key) => key === '',
    // The store answers from memory and reports no errors; were one to slip through, serve rather than fail the request.
    skipOnError: true,
    store: class SharedWindowStore implements FastifyRateLimitStore {
      incr (key: string, callback: Callback, timeWindow: number, max: number): void {
        windows.incr(key, callback, timeWindow, max)
      }

      child (): FastifyRateLimitStore {
        return this
      }
    } satisfies FastifyRateLimitStoreCtor,
    onExceeded: () => { app.metrics.rateLimited() },
    errorResponseBuilder: (_request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000))
      return withExtras(
        new RateLimitedError(`This API key may make ${context.max} requests per ${RATE_LIMIT_WINDOW_MS / 1000} s; retry in ${retryAfterSeconds} s`),
        { retryAfterSeconds }
      )
    }
  })
}, { name: 'rate-limit', dependencies: ['redis', 'metrics'] })
