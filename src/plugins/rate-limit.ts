// Per-API-key rate limit, counted in Redis so every replica shares one budget; fails open while Redis is down.
import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import type { Tenant } from '../config/tenants.js'
import { RateLimitedError, withExtras } from '../errors.js'
import type { RedisConnection } from '../redis.js'

/** One fixed window per key: the first hit of a window sets its expiry; a key that somehow lost its expiry gets one. */
const WINDOW_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}`

interface WindowCommand {
  fgwRateLimitWindow: (key: string, windowMs: number) => Promise<[number, number]>
}

const REDIS_DOWN = new Error('Redis is down: the rate limit is skipped until it returns')

/**
 * A store over the gateway's own Redis connection and health: while Redis is known to be down no request waits on it
 * (the limit is skipped); a failing call waits at most the command timeout and marks Redis down for everyone.
 */
function redisStore (connection: RedisConnection, prefix: string): FastifyRateLimitStoreCtor {
  const { client, health } = connection
  if (!('fgwRateLimitWindow' in client)) client.defineCommand('fgwRateLimitWindow', { numberOfKeys: 1, lua: WINDOW_SCRIPT })
  const command = client as unknown as WindowCommand

  return class RedisWindowStore implements FastifyRateLimitStore {
    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number): void {
      if (!health.usable()) {
        callback(REDIS_DOWN)
        return
      }
      command.fgwRateLimitWindow(`${prefix}${key}`, timeWindow).then(([current, ttl]) => {
        health.succeeded()
        callback(null, { current, ttl })
      }, (error: Error) => {
        health.failed(error)
        callback(error)
      })
    }

    child (): FastifyRateLimitStore {
      return this
    }
  }
}

export default fp(async function rateLimitPlugin (app, opts: { config: Config }) {
  const { RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS, REDIS_KEY_PREFIX } = opts.config
  if (RATE_LIMIT_MAX === 0) return
  const redis = app.redis

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
    // A Redis error lets the request through: the gateway keeps serving while Redis is away.
    skipOnError: true,
    ...(redis === undefined ? {} : { store: redisStore(redis, `${REDIS_KEY_PREFIX}ratelimit:`) }),
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
