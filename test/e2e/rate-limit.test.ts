// The per-API-key rate limit: 429 problem+json with Retry-After, one budget across replicas through Redis, open while Redis is away.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, metricValue } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'

/** Counting tests must not see a command time out on a busy machine: that would (rightly) skip the limit. */
const PATIENT_REDIS = { REDIS_COMMAND_TIMEOUT_MS: '2000' }

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

  it('shares one budget between two replicas on the same Redis', async () => {
    const apiKey = newApiKey()
    const env = { ...PATIENT_REDIS, RATE_LIMIT_MAX: '4', REDIS_KEY_PREFIX: `rl${randomBytes(4).toString('hex')}:` }
    const a = await start({ redisUrl: inject('redisUrl'), tenants: [{ id: 'acme', apiKey }], env })
    const b = await start({ redisUrl: inject('redisUrl'), tenants: [{ id: 'acme', apiKey }], env })

    const statuses = []
    for (const gw of [a, b, a, b, a, b]) statuses.push((await call(gw.url, '/me', { apiKey })).status)

    expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
    expect(sim.requests).toHaveLength(4)
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

    it('lets requests through when Redis is killed, and reports readiness degraded', async () => {
      redis = await startRedisServer()
      const gw = await start({ redisUrl: redis.url, env: { RATE_LIMIT_MAX: '2' } })
      expect((await call(gw, '/me')).status).toBe(200)

      await redis.stop()
      const answers = []
      for (let i = 0; i < 5; i++) answers.push(await call(gw, '/me'))

      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
      // Nothing waits on a dead Redis: the connection is known closed.
      for (const answer of answers) expect(answer.ms).toBeLessThan(1_000)
      expect((await call(gw.url, '/readyz')).body).toMatchObject({ status: 'degraded', redis: 'down' })
      expect(sim.requests).toHaveLength(6)
    })

    it('lets requests through when Redis stops answering, none waiting much past the command timeout', async () => {
      redis = await startRedisServer()
      const gw = await start({ redisUrl: redis.url, env: { RATE_LIMIT_MAX: '100', REDIS_COMMAND_TIMEOUT_MS: '200' } })
      expect((await call(gw, '/me')).status).toBe(200)

      redis.process.kill('SIGSTOP')
      try {
        const answers = []
        for (let i = 0; i < 5; i++) answers.push(await call(gw, '/me'))

        expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200])
        // The first request pays one command timeout (200 ms) and marks Redis down; the rest do not wait on it at all.
        expect(answers[0]?.ms).toBeLessThan(200 + 800)
        for (const answer of answers.slice(1)) expect(answer.ms).toBeLessThan(500)
      } finally {
        redis.process.kill('SIGCONT')
      }

      // Back under the limit's control once Redis answers again (its probe runs every second).
      await sleep(1_500)
      expect((await call(gw.url, '/readyz')).body).toMatchObject({ redis: 'up' })
      const back = await call(gw, '/me')
      expect(back.status).toBe(200)
      expect(Number(back.headers.get('x-ratelimit-remaining'))).toBeLessThan(100)
    })
  })
})
