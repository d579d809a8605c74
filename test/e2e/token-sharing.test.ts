// One tenant, many calls, two app instances on one Redis: one token request in all, the token kept in Redis with a TTL.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator } from '../../src/simulator/types.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'

describe('token sharing through Redis', () => {
  const apiKey = newApiKey()
  let redis: Redis
  // Each test starts cold: its own simulator (counters from zero) and its own key prefix (no token in Redis).
  let prefix: string
  let sim: Simulator
  let first: TestGateway

  const startInstance = async (): Promise<TestGateway> =>
    await startGateway({ sim, redisUrl: inject('redisUrl'), tenants: [{ id: 'acme', apiKey }], env: { REDIS_KEY_PREFIX: prefix } })

  beforeAll(() => { redis = new Redis(inject('redisUrl')) })
  afterAll(() => { redis.disconnect() })

  beforeEach(async () => {
    prefix = `share${randomBytes(4).toString('hex')}:`
    sim = await startSimulator({ accounts: [ACCOUNT] })
    first = await startInstance()
  })
  afterEach(async () => {
    await first.close()
    await sim.close()
  })

  it('makes exactly one token request for 100 concurrent requests of one tenant', async () => {
    const answers = await Promise.all(Array.from({ length: 100 }, async () => await call(first, '/me')))
    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(200))
    expect(sim.counters.tokenRequests).toBe(1)
    expect(sim.counters.graphqlRequests).toBe(100)
  })

  it('keeps the token in Redis under the tenant key, with a TTL from expires_in', async () => {
    expect(await redis.keys(`${prefix}token:*`)).toEqual([])
    expect((await call(first, '/me')).status).toBe(200)
    const keys = await redis.keys(`${prefix}token:acme:*`)
    expect(keys).toHaveLength(1)
    const ttlMs = await redis.pttl(keys[0]!)
    // The simulator's tokens live 86400 s; a few seconds have passed at most.
    expect(ttlMs).toBeGreaterThan(86_000_000)
    expect(ttlMs).toBeLessThanOrEqual(86_400_000)
    expect(sim.counters.tokenRequests).toBe(1)
  })

  it('lets a second app instance on the same Redis serve the tenant without a token request of its own', async () => {
    expect((await call(first, '/me')).status).toBe(200)
    expect(sim.counters.tokenRequests).toBe(1)
    const second = await startInstance()
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, async () => await call(second, '/me')))
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200))
      expect(sim.counters.tokenRequests).toBe(1)
      // Both instances sent Fluent the same token.
      expect(sim.requests).toHaveLength(21)
      const tokensSent = new Set(sim.requests.map((request) => request.headers.authorization))
      expect(tokensSent.size).toBe(1)
    } finally {
      await second.close()
    }
  })
})
