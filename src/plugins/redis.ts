// Redis for shared state (tokens, locks): optional; without REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES tokens stay in-process.
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { connectRedis, redisTarget, type RedisConnection, type RedisState } from '../redis/connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisConnection | undefined
    redisState: () => RedisState
  }
}

/** How long boot waits for Redis before starting degraded (it keeps reconnecting in the background). */
const BOOT_WAIT_MS = 2_000

export default fp(async function redisPlugin (app, opts: { config: Config }) {
  const target = redisTarget(opts.config)
  if (target === undefined) {
    app.log.warn('no Redis configured (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES): tokens are cached in this process only, so replicas do not share them')
    app.decorate('redis', undefined)
    app.decorate('redisState', () => 'disabled' as const)
    return
  }

  const connection = connectRedis(target, app.log)
  const { client } = connection
  // Not events.once: it rejects on the 'error' a Redis that is down at boot emits, and boot must go on, degraded.
  // A refused connection ends the wait at once; a silent one after BOOT_WAIT_MS.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, BOOT_WAIT_MS)
    client.once('ready', done)
    client.once('error', done)
    function done (): void {
      clearTimeout(timer)
      client.off('ready', done)
      client.off('error', done)
      resolve()
    }
  })
  if (client.status === 'ready') app.log.info({ redis: target.mode }, 'Redis connected')
  else connection.health.failed(new Error(`Redis not ready within ${BOOT_WAIT_MS} ms of boot`))

  app.decorate('redis', connection)
  app.decorate('redisState', () => connection.health.state)
  app.addHook('onClose', async () => { await connection.close() })
}, { name: 'redis' })
