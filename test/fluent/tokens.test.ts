// TokenProvider against a real redis-server and the Fluent simulator: replicas sharing tokens, invalidation, refresh, back-off, margins.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import type { Tenant } from '../../src/config/tenants.js'
import { parseTenants } from '../../src/config/tenants.js'
import { requestToken } from '../../src/fluent/oauth.js'
import { RedisTokenStore, type CachedToken } from '../../src/fluent/token-store.js'
import { renewalMargin, tokenCacheKey, toCachedToken, TokenProvider, type TokenProviderOptions } from '../../src/fluent/tokens.js'
import { createTransport } from '../../src/fluent/transport.js'
import { RedisHealthTracker } from '../../src/redis/connection.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { ACCOUNT, newApiKey, tenantEntry } from '../helpers/gateway.js'

const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
const transport = createTransport()
const silent = { warn: () => {}, info: () => {} }
let sim: Simulator

beforeAll(async () => {
  await redis.connect()
  sim = await startSimulator({ accounts: [ACCOUNT] })
})
afterAll(async () => {
  await redis.quit()
  await transport.close()
  await sim.close()
})
afterEach(() => {
  vi.useRealTimers()
  sim.reset()
})

/** Lifetime of the tokens in the renewal tests: renewal 12 s before expiry, at 48 s. */
const TTL_SECONDS = 60

/**
 * Fakes this process's Date (only: timers, and Redis's own clock, run in real time); `advance(ms)` moves it ahead at
 * once. The provider and the simulator both read Date, so a token ages at once, while Redis, expiring keys in real
 * time, keeps a stored token as it would until its real expiry: advance to before expiry only, or expect it still stored.
 * Start it before the first token is fetched; afterEach goes back to the real clock.
 */
function fakeClock (): { advance: (ms: number) => void } {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
  return { advance: (ms) => { vi.setSystemTime(Date.now() + ms) } }
}

/** A fresh tenant id each time, so every test starts cold. */
function newTenant (password = ACCOUNT.password): Tenant {
  const entry = tenantEntry({ id: `t-${randomBytes(4).toString('hex')}`, apiKey: newApiKey(), account: { ...ACCOUNT, password } }, sim.url)
  const [tenant] = parseTenants({ tenants: [entry] })
  if (tenant === undefined) throw new Error('no tenant')
  return tenant
}

/** One replica's view: its own provider (own L1 and single-flight) over the shared Redis. */
function replica (prefix: string, options: Partial<TokenProviderOptions> & { encryptionKey?: Buffer } = {}): { tokens: TokenProvider, store: RedisTokenStore } {
  const { encryptionKey, ...rest } = options
  const store = new RedisTokenStore({ redis, prefix, health: new RedisHealthTracker(silent), ...(encryptionKey === undefined ? {} : { encryptionKey }) })
  const tokens = new TokenProvider({
    fetchToken: async (tenant, refreshToken, signal) => await requestToken(transport, tenant, refreshToken, signal),
    store,
    pollMs: 10,
    ...rest
  })
  return { tokens, store }
}

function newPrefix (): string {
  return `tk${randomBytes(4).toString('hex')}:`
}

describe('renewal margin', () => {
  it('is 20% of the lifetime, capped at five minutes', () => {
    expect(renewalMargin(86_400_000)).toBe(300_000)
    expect(renewalMargin(3_600_000)).toBe(300_000)
    expect(renewalMargin(10_000)).toBe(2_000)
    expect(renewalMargin(5_000)).toBe(1_000)
  })

  it('makes a 24 h token renew five minutes before it expires', () => {
    const cached = toCachedToken({ accessToken: 'x', expiresInSeconds: 86_400 }, 1_000)
    expect(cached.expiresAt).toBe(1_000 + 86_400_000)
    expect(cached.expiresAt - cached.renewAt).toBe(300_000)
  })
})

describe('token cache key', () => {
  it('changes when the base URL, client or user changes, so changed credentials never reuse a token', () => {
    const tenant = newTenant()
    const key = tokenCacheKey(tenant)
    expect(key.startsWith(`${tenant.id}:`)).toBe(true)
    expect(tokenCacheKey({ ...tenant, fluent: { ...tenant.fluent, username: 'someone_else' } })).not.toBe(key)
    expect(tokenCacheKey({ ...tenant, fluent: { ...tenant.fluent, clientId: 'OTHER' } })).not.toBe(key)
    expect(tokenCacheKey({ ...tenant, fluent: { ...tenant.fluent, baseUrl: 'http://127.0.0.1:1' } })).not.toBe(key)
  })
})

describe('TokenProvider', () => {
  it('makes one token request for many concurrent callers on several replicas', async () => {
    const prefix = newPrefix()
    const replicas = [replica(prefix), replica(prefix), replica(prefix)]
    const tenant = newTenant()
    sim.faults.tokenDelayMs = 150
    const tokens = await Promise.all(Array.from({ length: 90 }, async (_, index) => await replicas[index % 3]!.tokens.get(tenant)))
    expect(new Set(tokens).size).toBe(1)
    expect(sim.counters.tokenRequests).toBe(1)
    // The holder released its lock.
    expect(await replicas[0]!.store.lockHeld(tokenCacheKey(tenant))).toBe(false)
  })

  it('serves later calls from its own memory without asking Fluent or Redis', async () => {
    const { tokens, store } = replica(newPrefix())
    const tenant = newTenant()
    const first = await tokens.get(tenant)
    await redis.del(store.tokenKey(tokenCacheKey(tenant)))
    expect(await tokens.get(tenant)).toBe(first)
    expect(sim.counters.tokenRequests).toBe(1)
  })

  it('drops a token on invalidation only if the cache still holds that same token', async () => {
    const prefix = newPrefix()
    const a = replica(prefix)
    const b = replica(prefix)
    const tenant = newTenant()
    const key = tokenCacheKey(tenant)
    const first = await a.tokens.get(tenant)

    await a.tokens.invalidate(tenant, 'a-token-nobody-holds')
    expect((await a.store.get(key))?.accessToken).toBe(first)
    expect(await a.tokens.get(tenant)).toBe(first)

    // Replica b meets a 401 first and gets a new token; a's late invalidation of the old one must not drop it.
    await b.tokens.invalidate(tenant, first)
    const second = await b.tokens.get(tenant)
    expect(second).not.toBe(first)
    await a.tokens.invalidate(tenant, first)
    expect((await a.store.get(key))?.accessToken).toBe(second)
    expect(await a.tokens.get(tenant)).toBe(second)
    expect(sim.counters.tokenRequests).toBe(2)
  })

  it('never hands out a refused token again, even to a lookup racing its deletion from Redis', async () => {
    const { tokens } = replica(newPrefix())
    const tenant = newTenant()
    const refused = await tokens.get(tenant)

    // Not awaited: the lookup below starts while the Redis delete is still on its way, so Redis still holds the
    // refused token when the lookup reads it.
    const invalidating = tokens.invalidate(tenant, refused)
    const racing = tokens.get(tenant)
    const [next] = await Promise.all([racing, invalidating])

    expect(next).not.toBe(refused)
    expect(await tokens.get(tenant)).toBe(next)
    expect(sim.counters.tokenRequests).toBe(2)
  })

  it('renews after a 401 instead of taking a token obtained before it, whatever Redis went through, once per cluster', async () => {
    const prefix = newPrefix()
    const one = replica(prefix)
    const two = replica(prefix)
    const tenant = newTenant()
    const first = await one.tokens.get(tenant)
    // Redis is flushed; replica two fetches and stores its own token; then Fluent revokes every token.
    await redis.del(one.store.tokenKey(tokenCacheKey(tenant)))
    const second = await two.tokens.get(tenant)
    expect(second).not.toBe(first)
    sim.revokeTokens()

    await one.tokens.invalidate(tenant, first)
    const renewed = await one.tokens.get(tenant)
    expect([first, second]).not.toContain(renewed)
    expect(sim.counters.tokenRequests).toBe(3)

    // Replica two, refused its own token, takes that renewal rather than asking Fluent again.
    await two.tokens.invalidate(tenant, second)
    expect(await two.tokens.get(tenant)).toBe(renewed)
    expect(sim.counters.tokenRequests).toBe(3)
  })

  it('uses the refresh grant first, once, on the replica that holds the lock', async () => {
    const clock = fakeClock()
    sim.faults.issueRefreshToken = true
    sim.faults.tokenTtlSeconds = TTL_SECONDS
    const prefix = newPrefix()
    const replicas = [replica(prefix), replica(prefix), replica(prefix)]
    const tenant = newTenant()
    const first = await replicas[0]!.tokens.get(tenant)
    // Every replica holds the token (and its refresh token) in memory.
    await Promise.all(replicas.map(async ({ tokens }) => await tokens.get(tenant)))
    clock.advance(54_000) // past the renewal time (48 s), 6 s before expiry

    sim.faults.tokenDelayMs = 100
    const renewed = await Promise.all(Array.from({ length: 30 }, async (_, index) => await replicas[index % 3]!.tokens.get(tenant)))
    expect(new Set(renewed).size).toBe(1)
    expect(renewed[0]).not.toBe(first)
    expect(sim.tokenRequests.map((record) => record.grantType)).toEqual(['password', 'refresh_token'])
  })

  it('falls back to the password grant when the refresh token no longer works', async () => {
    const clock = fakeClock()
    sim.faults.issueRefreshToken = true
    sim.faults.tokenTtlSeconds = TTL_SECONDS
    const { tokens, store } = replica(newPrefix())
    const tenant = newTenant()
    const first = await tokens.get(tenant)
    // Someone else spends the single-use refresh token.
    const refreshToken = (await store.get(tokenCacheKey(tenant)))?.refreshToken ?? ''
    expect(refreshToken).not.toBe('')
    const spent = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: ACCOUNT.clientId, client_secret: ACCOUNT.clientSecret })
    })
    expect(spent.status).toBe(200)
    clock.advance(54_000) // past the renewal time (48 s), 6 s before expiry

    const renewed = await tokens.get(tenant)
    expect(renewed).not.toBe(first)
    expect(sim.tokenRequests.map((record) => record.grantType)).toEqual(['password', 'refresh_token', 'refresh_token', 'password'])
  })

  it('remembers refused credentials for the back-off on every replica, then asks Fluent again', async () => {
    sim.faults.badCredentials = true
    sim.faults.tokenDelayMs = 50
    const prefix = newPrefix()
    const a = replica(prefix, { authFailureBackoffMs: 400 })
    const b = replica(prefix, { authFailureBackoffMs: 400 })
    const tenant = newTenant()
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, async (_, index) => await (index % 2 === 0 ? a : b).tokens.get(tenant)))
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'UPSTREAM_AUTH_FAILED', statusCode: 502 })
    }
    expect(sim.counters.tokenRequests).toBe(1)

    // A third replica that never asked learns it from Redis.
    const c = replica(prefix, { authFailureBackoffMs: 400 })
    await expect(c.tokens.get(tenant)).rejects.toMatchObject({ code: 'UPSTREAM_AUTH_FAILED' })
    expect(sim.counters.tokenRequests).toBe(1)

    sim.faults.badCredentials = false
    await sleep(450)
    await expect(a.tokens.get(tenant)).resolves.toMatch(/^[0-9a-f]{64}$/)
    expect(sim.counters.tokenRequests).toBe(2)
  })

  it('keeps using the current token until it expires when its early renewal fails', async () => {
    const clock = fakeClock()
    sim.faults.tokenTtlSeconds = TTL_SECONDS
    const { tokens } = replica(newPrefix())
    const tenant = newTenant()
    const first = await tokens.get(tenant)
    clock.advance(54_000) // past the renewal time (48 s), 6 s before expiry
    sim.faults.badCredentials = true
    expect(await tokens.get(tenant)).toBe(first)
    // The renewal was tried, and refused.
    expect(sim.tokenRequests).toHaveLength(2)
    clock.advance(10_000) // now expired (and past the 5 s back-off of the refusal)
    await expect(tokens.get(tenant)).rejects.toMatchObject({ code: 'UPSTREAM_AUTH_FAILED' })
  })

  it('fetches the token itself when the lock holder vanished without one', async () => {
    const prefix = newPrefix()
    const { tokens, store } = replica(prefix)
    const tenant = newTenant()
    // A replica that took the lock and died: its lock lapses after 300 ms.
    expect(await store.acquireLock(tokenCacheKey(tenant), 300)).toBeDefined()
    const started = Date.now()
    await expect(tokens.get(tenant)).resolves.toMatch(/^[0-9a-f]{64}$/)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(sim.counters.tokenRequests).toBe(1)
  })

  it('fetches once per process, writing nothing, while Redis is unusable', async () => {
    const prefix = newPrefix()
    const { tokens, store } = replica(prefix, { storeUsable: () => false })
    const tenant = newTenant()
    sim.faults.tokenDelayMs = 50
    const all = await Promise.all(Array.from({ length: 20 }, async () => await tokens.get(tenant)))
    expect(new Set(all).size).toBe(1)
    expect(sim.counters.tokenRequests).toBe(1)
    expect(await redis.exists(store.tokenKey(tokenCacheKey(tenant)))).toBe(0)
  })

  it('serves tokens from memory when every Redis call fails, warning once', async () => {
    const warnings: string[] = []
    const health = new RedisHealthTracker({ warn: (_object, message) => { warnings.push(message) }, info: () => {} })
    const dead = new Redis({ port: 1, host: '127.0.0.1', enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null })
    dead.on('error', () => {})
    const tokens = new TokenProvider({
      fetchToken: async (tenant, refreshToken, signal) => await requestToken(transport, tenant, refreshToken, signal),
      store: new RedisTokenStore({ redis: dead, prefix: newPrefix(), health }),
      storeUsable: () => health.usable()
    })
    const tenants = [newTenant(), newTenant()]
    for (const tenant of tenants) {
      const all = await Promise.all(Array.from({ length: 10 }, async () => await tokens.get(tenant)))
      expect(new Set(all).size).toBe(1)
    }
    expect(sim.counters.tokenRequests).toBe(2)
    expect(warnings).toHaveLength(1)
    dead.disconnect()
  })

  it('shares encrypted tokens between replicas holding the same key, and not with a replica holding another', async () => {
    const prefix = newPrefix()
    const key = randomBytes(32)
    const tenant = newTenant()
    const first = await replica(prefix, { encryptionKey: key }).tokens.get(tenant)
    expect(await replica(prefix, { encryptionKey: key }).tokens.get(tenant)).toBe(first)
    expect(sim.counters.tokenRequests).toBe(1)
    const other = await replica(prefix, { encryptionKey: randomBytes(32) }).tokens.get(tenant)
    expect(other).not.toBe(first)
    expect(sim.counters.tokenRequests).toBe(2)
  })

  it('stores what it fetched with its renewal time', async () => {
    const { tokens, store } = replica(newPrefix())
    const tenant = newTenant()
    const accessToken = await tokens.get(tenant)
    const cached = await store.get(tokenCacheKey(tenant)) as CachedToken
    expect(cached.accessToken).toBe(accessToken)
    expect(cached.expiresAt - cached.renewAt).toBe(300_000)
  })
})
