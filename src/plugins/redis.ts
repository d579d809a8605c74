// Redis for shared state (tokens, locks): optional; without REDIS_URL the gateway keeps tokens in-process.
import { once } from 'node:events'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { connectRedis, type RedisConnection, type RedisState } from '../redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisConnection | undefined
    redisState: () => RedisState
  }
}

/** How long boot waits for Redis before starting degraded. */
const BOOT_WAIT_MS = 2_000

export default fp(async function redisPlugin (app, opts: { config: Config }) {
  const { REDIS_URL, REDIS_COMMAND_TIMEOUT_MS } = opts.config
  if (REDIS_URL === undefined) {
    app.log.warn('REDIS_URL is not set: tokens are cached in this process only, so replicas do not share them')
    app.decorate('redis', undefined)
    app.decorate('redisState', () => 'disabled' as const)
    return
  }

  const connection = connectRedis(REDIS_URL, REDIS_COMMAND_TIMEOUT_MS, app.log)
  const ready = once(connection.client, 'ready')
  const timeout = AbortSignal.timeout(BOOT_WAIT_MS)
  await Promise.race([ready, once(timeout, 'abort')])
  if (connection.client.status !== 'ready') connection.health.failed(new Error(`Redis not ready within ${BOOT_WAIT_MS} ms of boot`))

  app.decorate('redis', connection)
  app.decorate('redisState', () => connection.health.state)
  app.addHook('onClose', async () => { await connection.close() })
}, { name: 'redis' })
