// Per-API-key rate limit: counted in each process and shared through Redis every RATE_LIMIT_SYNC_MS, so no request waits on Redis.
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import type { Tenant } from '../config/tenants.js'
import { RateLimitedError, withExtras } from '../errors.js'
import { SharedWindows } from '../redis/shared-windows.js'

/**
 * One callback hook, not @fastify/rate-limit: the counting was already ours (SharedWindows), and the plugin's
 * async steps (key, allow list, a promise around the store) cost about 2.5 KB of garbage per request.
 */
export default fp(async function rateLimitPlugin (app, opts: { config: Config }) {
  const { RATE_LIMIT_MAX: max, RATE_LIMIT_WINDOW_MS: windowMs, RATE_LIMIT_SYNC_MS, REDIS_KEY_PREFIX } = opts.config
  if (max === 0) return

  const windows = new SharedWindows(app.redis, `${REDIS_KEY_PREFIX}ratelimit:`)
  windows.start(RATE_LIMIT_SYNC_MS)
  app.addHook('onClose', async () => { windows.stop() })

  // Registered after auth, so it runs after auth's onRequest hook has chosen the tenant.
  app.addHook('onRequest', (request, reply, done) => {
    // Public routes (health, docs, metrics) and unknown routes carry no tenant: they are not limited.
    const tenant = request.tenant as Tenant | null
    if (tenant === null) {
      done()
      return
    }
    // Per caller key, never per IP: replicas sit behind load balancers and many callers share a NAT. Auth has already
    // hashed the key; whichever header carried it, one key draws on one budget.
    windows.incr(`${tenant.id}:${request.apiKeyDigest.slice(0, 32)}`, (count) => {
      const resetSeconds = Math.ceil(count.ttl / 1000)
      reply.header('x-ratelimit-limit', max)
      reply.header('x-ratelimit-remaining', Math.max(0, max - count.current))
      reply.header('x-ratelimit-reset', resetSeconds)
      if (count.current <= max) {
        done()
        return
      }
      app.metrics.rateLimited()
      const retryAfterSeconds = Math.max(1, resetSeconds)
      done(withExtras(
        new RateLimitedError(`This API key may make ${max} requests per ${windowMs / 1000} s; retry in ${retryAfterSeconds} s`),
        { retryAfterSeconds }
      ))
    }, windowMs, max)
  })
}, { name: 'rate-limit', dependencies: ['redis', 'metrics', 'auth'] })
