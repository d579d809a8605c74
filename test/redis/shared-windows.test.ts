// The rate limit's counts (SharedWindows), flushed by hand so the overshoot across replicas is measured exactly.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import { SharedWindows } from '../../src/redis/shared-windows.js'
import { RedisHealthTracker, type RedisConnection } from '../../src/redis/connection.js'

const silent = { warn: () => {}, info: () => {} }
const WINDOW_MS = 60_000

interface Count {
  current: number
  ttl: number
}

/** One store's incr as a promise: how the plugin sees it. */
async function incr (store: SharedWindows, key: string, max: number): Promise<Count> {
  return await new Promise((resolve) => { store.incr(key, resolve, WINDOW_MS, max) })
}

describe('the rate limit counts (SharedWindows)', () => {
  const connections: RedisConnection[] = []
  /** A replica's own connection to the test Redis, as connectRedis would give it (no offline queue, short timeout). */
  const replica = (): RedisConnection => {
    const client = new Redis(inject('redisUrl'), { enableOfflineQueue: false, commandTimeout: 2_000, maxRetriesPerRequest: 0 })
    const connection = { client, health: new RedisHealthTracker(silent), close: async () => { client.disconnect() } }
    connections.push(connection)
    return connection
  }
  const ready = async (connection: RedisConnection): Promise<RedisConnection> => {
    if (connection.client.status !== 'ready') await new Promise((resolve) => connection.client.once('ready', resolve))
    return connection
  }
  const admin = new Redis(inject('redisUrl'), { lazyConnect: true })
  afterEach(async () => { await Promise.all(connections.splice(0).map(async (connection) => { await connection.close() })) })
  afterAll(async () => { await admin.quit() })

  it('keeps two replicas within max + replicas × (hits per replica per sync interval)', async () => {
    const prefix = `rls${randomBytes(4).toString('hex')}:`
    const [a, b] = [new SharedWindows(await ready(replica()), prefix), new SharedWindows(await ready(replica()), prefix)]
    const max = 100
    // rate × RATE_LIMIT_SYNC_MS: the hits each replica receives between two of its flushes.
    const perInterval = 7
    let admitted = 0
    let offered = 0

    for (let interval = 0; interval < 30; interval++) {
      // b joins late, as a fresh replica would, when a has already used part of the budget.
      const active = interval < 4 ? [a] : [a, b]
      await Promise.all(active.map(async (store) => {
        for (let i = 0; i < perInterval; i++) {
          offered++
          if ((await incr(store, 'acme:key', max)).current <= max) admitted++
        }
      }))
      await Promise.all(active.map(async (store) => { await store.flush() }))
    }

    // Each replica alone would grant a budget of its own (200 in all); shared, the overshoot stays within the bound.
    expect(offered).toBeGreaterThan(2 * max)
    expect(admitted).toBeGreaterThanOrEqual(max)
    expect(admitted).toBeLessThanOrEqual(max + 2 * perInterval)
  })

  it('sends nothing per request: one round trip per key and flush, and none for a key already over its limit', async () => {
    const prefix = `rls${randomBytes(4).toString('hex')}:`
    const store = new SharedWindows(await ready(replica()), prefix)

    const first = await incr(store, 'acme:key', 5)
    const local = []
    for (let i = 0; i < 3; i++) local.push(await incr(store, 'acme:key', 5))
    // The first request of the window learned the shared count; the next three are only counted here.
    expect(Number(await admin.get(`${prefix}acme:key`))).toBe(1)
    expect([first, ...local].map((count) => count.current)).toEqual([1, 2, 3, 4])
    expect(first.ttl).toBeGreaterThan(WINDOW_MS - 5_000)

    await store.flush()
    expect(Number(await admin.get(`${prefix}acme:key`))).toBe(4)
    expect(await admin.pttl(`${prefix}acme:key`)).toBeGreaterThan(WINDOW_MS - 5_000)

    for (let i = 0; i < 3; i++) await incr(store, 'acme:key', 5)
    await store.flush()
    expect(Number(await admin.get(`${prefix}acme:key`))).toBe(7)
    // Over the limit for everyone who flushes: further hits need not travel.
    await incr(store, 'acme:key', 5)
    await store.flush()
    expect(Number(await admin.get(`${prefix}acme:key`))).toBe(7)
  })

  it('counts concurrent first requests of a window one by one, in a single round trip', async () => {
    const prefix = `rls${randomBytes(4).toString('hex')}:`
    await admin.set(`${prefix}acme:key`, '10', 'PX', WINDOW_MS)
    const store = new SharedWindows(await ready(replica()), prefix)

    const counts = await Promise.all([1, 2, 3, 4].map(async () => await incr(store, 'acme:key', 100)))

    expect(counts.map((count) => count.current)).toEqual([11, 12, 13, 14])
    expect(Number(await admin.get(`${prefix}acme:key`))).toBe(11)
  })

  it('counts on its own, without waiting, while Redis is known down, and shares its count once it is back', async () => {
    const prefix = `rls${randomBytes(4).toString('hex')}:`
    const connection = await ready(replica())
    const store = new SharedWindows(connection, prefix)
    connection.health.failed(new Error('down for the test'))

    const counts = []
    for (let i = 0; i < 3; i++) counts.push(await incr(store, 'acme:key', 2))
    await store.flush()

    expect(counts.map((count) => count.current)).toEqual([1, 2, 3])
    expect(await admin.exists(`${prefix}acme:key`)).toBe(0)

    connection.health.succeeded()
    await store.flush()
    expect(Number(await admin.get(`${prefix}acme:key`))).toBe(3)
  })

  it('is purely local without Redis', async () => {
    const store = new SharedWindows(undefined, 'unused:')
    store.start(10)

    const counts = []
    for (let i = 0; i < 3; i++) counts.push(await incr(store, 'acme:key', 2))
    await store.flush()
    store.stop()

    expect(counts.map((count) => count.current)).toEqual([1, 2, 3])
    expect(counts[0]?.ttl).toBeGreaterThan(WINDOW_MS - 5_000)
  })
})
