// The per-API-key rate limit: 429 problem+json with Retry-After, one budget across replicas through Redis (counted in
// memory, flushed every RATE_LIMIT_SYNC_MS), each replica on its own while Redis is away.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, metricValue, type Answer } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'

/** Counting tests must not see a command time out on a busy machine: that would (rightly) leave each replica on its own. */
const PATIENT_REDIS = { REDIS_COMMAND_TIMEOUT_MS: '2000' }

/** The shared count of the one rate-limited key under `prefix`, as Redis holds it (0 before any flush). */
async function sharedCount (redis: Redis, prefix: string): Promise<number> {
  const keys = await redis.keys(`${prefix}ratelimit:*`)
  expect(keys.length).toBeLessThanOrEqual(1)
  return keys[0] === undefined ? 0 : Number(await redis.get(keys[0]))
}

/**
 * Waits until Redis holds `count` for the key, then a little longer, so the replica whose flush brought it there has
 * also read the answer (its socket and the test's are read in no set order).
 */
async function untilShared (redis: Redis, prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 5_000
  while (await sharedCount(redis, prefix) !== count) {
    if (Date.now() > deadline) throw new Error(`the shared count never reached ${count}: it is ${await sharedCount(redis, prefix)}`)
    await sleep(5)
  }
  await sleep(50)
}

/** Polls /readyz until it reports Redis `state`, for at most 5 s. */
async function untilReadiness (gw: TestGateway, state: 'up' | 'down'): Promise<void> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const body = (await call(gw.url, '/readyz')).body as { redis?: string }
    if (body.redis === state) return
    if (Date.now() > deadline) throw new Error(`/readyz did not report redis ${state} within 5 s: ${JSON.stringify(body)}`)
    await sleep(50)
  }
}

/** Calls (or commands, for the script) per command name, from INFO commandstats. */
async function commandCalls (redis: Redis): Promise<Map<string, number>> {
  const calls = new Map<string, number>()
  for (const match of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)(?:.*rejected_calls=(\d+))?/gm)) {
    // A rejected call (NOSCRIPT, say) was still a round trip.
    calls.set(match[1] ?? '', Number(match[2]) + Number(match[3] ?? 0))
  }
  return calls
}

describe('the rate limit', () => {
  let sim: Simulator
  const gateways: TestGateway[] = []
  const start = async (options: Parameters<typeof startGateway>[0]): Promise<TestGateway> => {
    const gw = await startGateway({ sim, ...options })
    gateways.push(gw)
    return gw
  }

  beforeAll(async () => { sim = await startSimulator({ accounts: [ACCOUNT] }) })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map(async (gw) => { await gw.close() }))
    sim.reset()
  })
  afterAll(async () => { await sim.close() })

  it('answers 429 RATE_LIMITED with Retry-After once a key has used its budget, sending nothing to Fluent', async () => {
    const gw = await start({ redisUrl: inject('redisUrl'), env: { ...PATIENT_REDIS, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } })

    const allowed = []
    for (let i = 0; i < 3; i++) allowed.push(await call(gw, '/me'))
    const refused = await call(gw, '/me')

    expect(allowed.map((answer) => answer.status)).toEqual([200, 200, 200])
    expect(allowed.map((answer) => answer.headers.get('x-ratelimit-remaining'))).toEqual(['2', '1', '0'])
    expect(allowed[0]?.headers.get('x-ratelimit-limit')).toBe('3')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(refused.body).toMatchObject({ status: 429, code: 'RATE_LIMITED', instance: '/me', requestId: refused.headers.get('x-request-id') })
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(sim.requests).toHaveLength(3)
    expect(metricValue((await call(gw.url, '/metrics')).text, 'fgw_rate_limited_total')).toBe(1)
  })

  it('counts a key once whether it comes as Bearer or X-API-Key, and leaves other keys and public routes alone', async () => {
    const [first, second] = [newApiKey(), newApiKey()]
    const gw = await start({
      redisUrl: inject('redisUrl'),
      tenants: [{ id: 'acme', apiKey: first }, { id: 'other', apiKey: second }],
      env: { ...PATIENT_REDIS, RATE_LIMIT_MAX: '2' }
    })

    expect((await call(gw.url, '/me', { apiKey: first })).status).toBe(200)
    expect((await call(gw.url, '/me', { headers: { 'x-api-key': first } })).status).toBe(200)
    const refused = await call(gw.url, '/me', { headers: { 'x-api-key': first } })
    const otherKey = await call(gw.url, '/me', { apiKey: second })
    const publicRoutes = await Promise.all(['/healthz', '/readyz', '/openapi.json', '/metrics'].map(async (path) => await call(gw.url, path)))

    expect(refused.status).toBe(429)
    expect(otherKey.status).toBe(200)
    expect(publicRoutes.map((answer) => answer.status)).toEqual([200, 200, 200, 200])
    expect(publicRoutes[0]?.headers.get('x-ratelimit-limit')).toBeNull()
  })

  it('does not spend the budget on requests that fail authentication', async () => {
    const gw = await start({ redisUrl: inject('redisUrl'), env: { ...PATIENT_REDIS, RATE_LIMIT_MAX: '1' } })

    for (let i = 0; i < 3; i++) expect((await call(gw.url, '/me', { apiKey: 'not-a-key' })).status).toBe(401)

    expect((await call(gw, '/me')).status).toBe(200)
  })

  describe('across replicas', () => {
    const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
    afterAll(async () => { await redis.quit() })

    it('shares one budget between two replicas on the same Redis, each learning the other\'s count within a sync interval', async () => {
      const apiKey = newApiKey()
      const prefix = `rl${randomBytes(4).toString('hex')}:`
      const env = { ...PATIENT_REDIS, RATE_LIMIT_MAX: '4', RATE_LIMIT_SYNC_MS: '20', REDIS_KEY_PREFIX: prefix }
      const a = await start({ redisUrl: inject('redisUrl'), tenants: [{ id: 'acme', apiKey }], env })
      const b = await start({ redisUrl: inject('redisUrl'), tenants: [{ id: 'acme', apiKey }], env })
      const remaining = (answer: Answer): string | null => answer.headers.get('x-ratelimit-remaining')

      const fromA = []
      for (let i = 0; i < 3; i++) fromA.push(await call(a.url, '/me', { apiKey }))
      await untilShared(redis, prefix, 3)
      // b has never seen the key: its first request asks Redis, so it starts from a's 3, not from a budget of its own.
      const fromB = [await call(b.url, '/me', { apiKey }), await call(b.url, '/me', { apiKey })]

      expect(fromA.map((answer) => [answer.status, remaining(answer)])).toEqual([[200, '3'], [200, '2'], [200, '1']])
      expect(fromB.map((answer) => [answer.status, remaining(answer)])).toEqual([[200, '0'], [429, '0']])
      expect(await sharedCount(redis, prefix)).toBe(4)

      // a still believes 3 were used: it grants one more (the documented overshoot, one sync interval's hits), and
      // the flush of that hit tells it the shared total, after which it refuses too.
      const stale = await call(a.url, '/me', { apiKey })
      await untilShared(redis, prefix, 5)
      const synced = await call(a.url, '/me', { apiKey })

      expect([stale.status, synced.status]).toEqual([200, 429])
      expect(sim.requests).toHaveLength(5)
    })

    it('answers a burst from one key with at most one Redis round trip per sync interval, counting every hit once', async () => {
      const apiKey = newApiKey()
      const prefix = `rl${randomBytes(4).toString('hex')}:`
      const syncMs = 100
      // Its own Redis, so INFO commandstats counts this gateway's commands alone.
      const own = await startRedisServer()
      const ownClient = new Redis(own.url, { lazyConnect: true })
      try {
        const gw = await start({
          redisUrl: own.url,
          tenants: [{ id: 'acme', apiKey }],
          env: { ...PATIENT_REDIS, RATE_LIMIT_MAX: '100000', RATE_LIMIT_SYNC_MS: String(syncMs), REDIS_KEY_PREFIX: prefix }
        })
        // Warm: the token is fetched and stored, and the key's first request of the window learns the shared count.
        expect((await call(gw.url, '/me', { apiKey })).status).toBe(200)
        await untilShared(ownClient, prefix, 1)
        await ownClient.config('RESETSTAT')

        const started = performance.now()
        const burst = 300
        let sent = 0
        const statuses: number[] = []
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (sent < burst) {
            sent++
            statuses.push((await call(gw.url, '/me', { apiKey })).status)
          }
        }))
        await untilShared(ownClient, prefix, 1 + burst)
        const elapsedMs = performance.now() - started
        const calls = await commandCalls(ownClient)

        expect(statuses.filter((status) => status === 200)).toHaveLength(burst)
        // The script's own INCRBY, PTTL and PEXPIRE run inside Redis; the round trips are the EVALSHA (or EVAL) calls.
        const roundTrips = (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0)
        expect(roundTrips).toBeGreaterThanOrEqual(1)
        expect(roundTrips).toBeLessThanOrEqual(Math.ceil(elapsedMs / syncMs) + 1)
        // Nothing else reached Redis per request: only the health probe's PING and this test's own commands.
        const others = [...calls].filter(([name]) => !['evalsha', 'eval', 'incrby', 'pttl', 'pexpire', 'ping', 'keys', 'get', 'config|resetstat', 'info'].includes(name))
        expect(others).toEqual([])
      } finally {
        await ownClient.quit()
        await own.stop()
      }
    })
  })

  it('limits each replica alone without Redis', async () => {
    const gw = await start({ env: { RATE_LIMIT_MAX: '1' } })

    expect((await call(gw, '/me')).status).toBe(200)
    expect((await call(gw, '/me')).status).toBe(429)
  })

  it('is off with RATE_LIMIT_MAX=0', async () => {
    const gw = await start({ redisUrl: inject('redisUrl'), env: { RATE_LIMIT_MAX: '0' } })

    const answers = await Promise.all([1, 2, 3].map(async () => await call(gw, '/me')))

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200])
    expect(answers[0]?.headers.get('x-ratelimit-limit')).toBeNull()
  })

  describe('when Redis fails', () => {
    let redis: RedisServer | undefined
    afterEach(async () => {
      await redis?.stop()
      redis = undefined
    })

    it('keeps limiting on its own when Redis is killed, no request waiting, and reports readiness degraded', async () => {
      redis = await startRedisServer()
      // A command timeout well above the bound below, so a request that waited on Redis even once would show.
      const gw = await start({ redisUrl: redis.url, env: { ...PATIENT_REDIS, RATE_LIMIT_MAX: '3' } })
      expect((await call(gw, '/me')).status).toBe(200)

      await redis.stop()
      const answers = []
      for (let i = 0; i < 5; i++) answers.push(await call(gw, '/me'))

      // The replica goes on from the count it had (1), alone: two more, then 429.
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429, 429, 429])
      // Nothing waits on a dead Redis: the count is in memory and the connection is known closed. One command
      // timeout (2 s) would exceed the bound.
      for (const answer of answers) expect(answer.ms).toBeLessThan(1_000)
      expect((await call(gw.url, '/readyz')).body).toMatchObject({ status: 'degraded', redis: 'down' })
      expect(sim.requests).toHaveLength(3)
    })

    it('keeps counting without waiting when Redis stops answering, and shares the count again once it is back', async () => {
      redis = await startRedisServer()
      const prefix = `rl${randomBytes(4).toString('hex')}:`
      const gw = await start({ redisUrl: redis.url, env: { ...PATIENT_REDIS, RATE_LIMIT_MAX: '100', REDIS_KEY_PREFIX: prefix } })
      expect((await call(gw, '/me')).status).toBe(200)

      redis.process.kill('SIGSTOP')
      try {
        const answers = []
        for (let i = 0; i < 5; i++) answers.push(await call(gw, '/me'))

        expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
        // Requests answer from memory: only the background flush meets the command timeout (2 s, which any request
        // that waited on Redis would have exceeded the bound by) and marks Redis down.
        for (const answer of answers) expect(answer.ms).toBeLessThan(1_000)
        // Resumed only once a flush has timed out, so its hits are sent again late.
        await untilReadiness(gw, 'down')
      } finally {
        redis.process.kill('SIGCONT')
      }

      // Shared again once Redis answers (its probe runs every second): every hit counted, none twice, even the ones
      // whose flush timed out and ran late.
      await untilReadiness(gw, 'up')
      const back = await call(gw, '/me')
      expect(back.status).toBe(200)
      expect(back.headers.get('x-ratelimit-remaining')).toBe('93')
      const client = new Redis(redis.url, { lazyConnect: true })
      try {
        await untilShared(client, prefix, 7)
      } finally {
        await client.quit()
      }
    })
  })
})
