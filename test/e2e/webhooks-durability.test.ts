// A webhook is never acknowledged and lost: 503 while Redis cannot take it (Fluent retries), and what was
// acknowledged survives a kill -9 of a Redis run with appendonly yes / appendfsync always.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, expectProblem, metricValue } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway, type TestTenant } from '../helpers/gateway.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'
import { fluentEvent, outboxIds, postWebhook } from '../helpers/webhooks.js'

let sim: Simulator
const tenant = (): TestTenant => ({ id: 'acme', apiKey: newApiKey(), webhooks: { publicKey: sim.webhookPublicKey } })

beforeAll(async () => {
  sim = await startSimulator({ accounts: [ACCOUNT], webhookRetryDelaysMs: [0, 500, 1_000, 2_000, 4_000] })
})
afterAll(async () => { await sim?.close() })

/** Waits until the gateway's /readyz reports Redis up again. */
async function redisBack (gateway: TestGateway, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (gateway.app.redisState() === 'up') return
    await sleep(50)
  }
  throw new Error('the gateway did not see Redis back')
}

describe('webhooks without a working Redis', () => {
  it('answers 503 UNAVAILABLE with Retry-After when no Redis is configured', async () => {
    const acme = tenant()
    const gateway = await startGateway({ sim, tenants: [acme] })
    try {
      const answer = await postWebhook(gateway.url, sim, 'acme', fluentEvent())
      expectProblem(answer, 503, 'UNAVAILABLE')
      expect(answer.headers.get('retry-after')).toBe('2')
      expectProblem(await call(gateway, '/webhook-events'), 503, 'UNAVAILABLE')
      // Still a 401 first: an unsigned request learns nothing of the outbox.
      expectProblem(await postWebhook(gateway.url, sim, 'acme', fluentEvent(), { signature: null }), 401, 'SIGNATURE_INVALID')
    } finally {
      await gateway.close()
    }
  })

  it('answers 503 while Redis is down, and the simulator\'s retries store the event once Redis is back', async () => {
    const acme = tenant()
    const redis = await startRedisServer()
    const gateway = await startGateway({ sim, redisUrl: redis.url, tenants: [acme] })
    let restarted: RedisServer | undefined
    try {
      const before = (await call(gateway.url, '/metrics')).text
      await redis.stop()
      const refused = await postWebhook(gateway.url, sim, 'acme', fluentEvent())
      expectProblem(refused, 503, 'UNAVAILABLE')
      expect(refused.headers.get('retry-after')).toBe('2')
      const after = (await call(gateway.url, '/metrics')).text
      expect(metricValue(after, 'fgw_webhooks_rejected_total', { reason: 'unavailable' }) - metricValue(before, 'fgw_webhooks_rejected_total', { reason: 'unavailable' })).toBe(1)

      // Fluent (the simulator) retries at once, then after 0.5, 1, 2, 4 s here; Redis returns during the schedule.
      const delivery = sim.webhooks.send(`${gateway.url}/webhooks/fluent/acme`, fluentEvent())
      await sleep(300)
      restarted = await startRedisServer(redis.port)
      const result = await delivery
      expect(result.delivered).toBe(true)
      expect(result.attempts[0]?.status).toBe(503)
      expect(result.attempts.at(-1)?.status).toBe(200)
      await redisBack(gateway)
      expect(await outboxIds(gateway)).toEqual([result.eventId])
    } finally {
      await gateway.close()
      await restarted?.stop()
      await redis.stop()
    }
  })
})

describe('webhooks on a Redis that stalls', () => {
  it('answers 503 when Redis does not answer in time, and a retry after Redis resumes is stored exactly once', async () => {
    const acme = tenant()
    const redis = await startRedisServer()
    const gateway = await startGateway({ sim, redisUrl: redis.url, tenants: [acme] })
    try {
      const event = fluentEvent()
      redis.process.kill('SIGSTOP')
      const started = Date.now()
      const stalled = await postWebhook(gateway.url, sim, 'acme', event)
      expectProblem(stalled, 503, 'UNAVAILABLE')
      expect(Date.now() - started).toBeLessThan(5_000)
      redis.process.kill('SIGCONT')
      await redisBack(gateway)
      // The stalled write may have reached Redis after the gateway gave up on it: the retry finds it or stores it, once.
      const retry = await postWebhook(gateway.url, sim, 'acme', event)
      expect(retry.status).toBe(200)
      expect(await outboxIds(gateway)).toEqual([event.id])
    } finally {
      redis.process.kill('SIGCONT')
      await gateway.close()
      await redis.stop()
    }
  })
})

describe('webhooks on a Redis with appendonly yes and appendfsync always', () => {
  it('keeps every event it acknowledged across a kill -9 of Redis, and still de-duplicates them after', async () => {
    const acme = tenant()
    const dir = mkdtempSync(join(tmpdir(), 'fgw-aof-'))
    const redis = await startRedisServer({ appendfsync: 'always', dir })
    const gateway = await startGateway({ sim, redisUrl: redis.url, tenants: [acme] })
    let restarted: RedisServer | undefined
    try {
      const events = Array.from({ length: 20 }, () => fluentEvent())
      const answers = await Promise.all(events.map(async (event) => await postWebhook(gateway.url, sim, 'acme', event)))
      expect(answers.map((answer) => answer.status)).toEqual(events.map(() => 200))

      await redis.crash()
      restarted = await startRedisServer({ port: redis.port, appendfsync: 'always', dir })
      await redisBack(gateway)

      expect(await outboxIds(gateway)).toEqual(events.map((event) => event.id))
      const retry = await postWebhook(gateway.url, sim, 'acme', events[0])
      expect(retry.body).toEqual({ id: events[0]?.id, duplicate: true })
    } finally {
      await gateway.close()
      await restarted?.stop()
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
