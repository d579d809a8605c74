// RedisTokenStore against a real redis-server: encryption bound to the key, compare-and-delete, the refresh lock, failure memory.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { RedisTokenStore, type CachedToken } from '../../src/fluent/token-store.js'
import { RedisHealthTracker } from '../../src/redis/connection.js'
import { LogCapture } from '../helpers/gateway.js'
import { startRedisServer } from '../helpers/redis-server.js'

const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
const prefix = `ts${randomBytes(4).toString('hex')}:`
const silent = { warn: () => {}, info: () => {} }

function store (encryptionKey?: Buffer): RedisTokenStore {
  return new RedisTokenStore({ redis, prefix, health: new RedisHealthTracker(silent), ...(encryptionKey === undefined ? {} : { encryptionKey }) })
}

function token (accessToken = randomBytes(32).toString('hex')): CachedToken {
  const now = Date.now()
  return { accessToken, expiresAt: now + 60_000, renewAt: now + 48_000, refreshToken: randomBytes(32).toString('hex') }
}

beforeAll(async () => { await redis.connect() })
afterAll(async () => { await redis.quit() })

describe('RedisTokenStore', () => {
  it('round-trips a token with a Redis TTL that ends when the token expires', async () => {
    const tokens = store()
    const cached = token()
    await tokens.set('acme:plain', cached)
    expect(await tokens.get('acme:plain')).toEqual(cached)
    const ttl = await redis.pttl(tokens.tokenKey('acme:plain'))
    expect(ttl).toBeGreaterThan(55_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('answers a miss for a key that holds nothing', async () => {
    expect(await store().get('acme:nothing')).toBeUndefined()
  })

  it('keeps encrypted tokens unreadable in Redis, in any common encoding', async () => {
    const tokens = store(randomBytes(32))
    const cached = token()
    await tokens.set('acme:sealed', cached)
    const raw = await redis.get(tokens.tokenKey('acme:sealed')) ?? ''
    expect(raw).not.toBe('')
    for (const secret of [cached.accessToken, cached.refreshToken ?? '']) {
      const bytes = Buffer.from(secret, 'utf8')
      for (const encoded of [secret, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), Buffer.from(secret, 'hex').toString('base64')]) {
        expect(raw).not.toContain(encoded)
      }
    }
    expect(await tokens.get('acme:sealed')).toEqual(cached)
  })

  it('answers a miss when an encrypted value is copied to another tenant key', async () => {
    const tokens = store(randomBytes(32))
    await tokens.set('acme:fp', token())
    await redis.copy(tokens.tokenKey('acme:fp'), tokens.tokenKey('globex:fp'), 'REPLACE')
    expect(await redis.exists(tokens.tokenKey('globex:fp'))).toBe(1)
    expect(await tokens.get('globex:fp')).toBeUndefined()
  })

  it('answers a miss, not an error, when the encryption key changed', async () => {
    await store(randomBytes(32)).set('acme:rotated', token())
    await expect(store(randomBytes(32)).get('acme:rotated')).resolves.toBeUndefined()
  })

  it('answers a miss for a plain value when encryption is on, and for a sealed value when it is off', async () => {
    const key = randomBytes(32)
    await store().set('acme:was-plain', token())
    expect(await store(key).get('acme:was-plain')).toBeUndefined()
    await store(key).set('acme:was-sealed', token())
    expect(await store().get('acme:was-sealed')).toBeUndefined()
  })

  it('answers a miss for a value that is not a token', async () => {
    const tokens = store()
    await redis.set(tokens.tokenKey('acme:garbage'), '{"accessToken":42}')
    expect(await tokens.get('acme:garbage')).toBeUndefined()
    await redis.set(tokens.tokenKey('acme:garbage'), 'not json')
    expect(await tokens.get('acme:garbage')).toBeUndefined()
  })

  it('drops a token on invalidation only while the cache still holds that same token', async () => {
    for (const tokens of [store(), store(randomBytes(32))]) {
      const current = token()
      await tokens.set('acme:inval', current)
      await tokens.deleteIfSame('acme:inval', 'some-older-token')
      expect(await tokens.get('acme:inval')).toEqual(current)
      await tokens.deleteIfSame('acme:inval', current.accessToken)
      expect(await tokens.get('acme:inval')).toBeUndefined()
    }
  })

  it('gives the refresh lock to one owner at a time and lets only that owner release it', async () => {
    const tokens = store()
    const owner = await tokens.acquireLock('acme:lock', 5_000)
    expect(owner).toMatch(/^[0-9a-f]{32}$/)
    expect(await tokens.acquireLock('acme:lock', 5_000)).toBeUndefined()
    expect(await tokens.lockHeld('acme:lock')).toBe(true)
    await tokens.releaseLock('acme:lock', 'not-the-owner')
    expect(await tokens.lockHeld('acme:lock')).toBe(true)
    await tokens.releaseLock('acme:lock', owner ?? '')
    expect(await tokens.lockHeld('acme:lock')).toBe(false)
    expect(await tokens.acquireLock('acme:lock', 5_000)).toBeDefined()
  })

  it('lets the lock lapse when its holder never releases it', async () => {
    const tokens = store()
    expect(await tokens.acquireLock('acme:lapse', 50)).toBeDefined()
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(await tokens.lockHeld('acme:lapse')).toBe(false)
  })

  it('remembers refused credentials until the back-off ends', async () => {
    const tokens = store()
    const until = Date.now() + 200
    await tokens.rememberAuthFailure('acme:auth', { message: 'Fluent refused the credentials', until })
    expect(await tokens.authFailure('acme:auth')).toEqual({ message: 'Fluent refused the credentials', until })
    await new Promise((resolve) => setTimeout(resolve, 260))
    expect(await tokens.authFailure('acme:auth')).toBeUndefined()
  })

  it('reports a failing Redis to its health tracker once and rethrows for the caller to fall back', async () => {
    const warnings: string[] = []
    const health = new RedisHealthTracker({ warn: (_object, message) => { warnings.push(message) }, info: () => {} })
    // Nothing listens on port 1; no offline queue, so commands fail at once.
    const dead = new Redis({ port: 1, host: '127.0.0.1', enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null })
    const tokens = new RedisTokenStore({ redis: dead, prefix, health })
    await expect(tokens.get('acme:down')).rejects.toThrow()
    await expect(tokens.set('acme:down', token())).rejects.toThrow()
    expect(health.state).toBe('down')
    expect(health.usable()).toBe(false)
    expect(warnings).toHaveLength(1)
    health.succeeded()
    expect(health.usable()).toBe(true)
    dead.disconnect()
  })

  it('never logs the token when Redis refuses to store it', async () => {
    // A Redis out of memory answers SET with an error; ioredis attaches the command and its arguments to that error.
    const full = await startRedisServer()
    const client = new Redis(full.url)
    try {
      await client.config('SET', 'maxmemory', '1')
      await client.config('SET', 'maxmemory-policy', 'noeviction')
      const logs = new LogCapture()
      const health = new RedisHealthTracker(pino(logs))
      const tokens = new RedisTokenStore({ redis: client, prefix, health })
      const cached = token()
      await expect(tokens.set('acme:oom', cached)).rejects.toThrow(/OOM/)
      expect(health.state).toBe('down')
      expect(logs.lines).toHaveLength(1)
      expect(logs.text).toContain('OOM')
      expect(logs.text).not.toContain(cached.accessToken)
      expect(logs.text).not.toContain(cached.refreshToken)
    } finally {
      client.disconnect()
      await full.stop()
    }
  })
})
