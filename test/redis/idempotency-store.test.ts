// The idempotency store against a real Redis and in memory: records expire with their TTL, locks are compare-and-swap.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { canonicalJson, fingerprintOf, IdempotencyStore } from '../../src/redis/idempotency-store.js'

const answer = { status: 201, headers: { 'content-type': 'application/json; charset=utf-8' }, body: Buffer.from('{"id":"1"}').toString('base64') }

describe('IdempotencyStore', () => {
  let redis: Redis
  beforeAll(() => { redis = new Redis(inject('redisUrl')) })
  afterAll(() => { redis.disconnect() })

  const health = (up: boolean): { usable: () => boolean, succeeded: () => void, failed: () => void } =>
    ({ usable: () => up, succeeded: () => {}, failed: () => {} })

  for (const where of ['redis', 'memory'] as const) {
    it(`lets a key run again once its record has expired (${where})`, async () => {
      const store = new IdempotencyStore({ redis: { client: redis, health: health(where === 'redis') }, prefix: `st${randomBytes(4).toString('hex')}:`, ttlMs: 300, lockTtlMs: 1_000 })
      const key = store.key('acme', 'scope')
      const first = await store.begin(key, 'f1')
      expect(first.kind).toBe('acquired')
      expect((await store.begin(key, 'f1')).kind).toBe('in_flight')
      if (first.kind !== 'acquired') return
      await store.complete(first.lock, 'f1', answer)
      expect(await store.begin(key, 'f1')).toEqual({ kind: 'done', fingerprint: 'f1', answer })
      await sleep(400)
      expect((await store.begin(key, 'f1')).kind).toBe('acquired')
    })
  }

  it('takes over a record sealed with another encryption key (a rotated TOKEN_ENCRYPTION_KEY) instead of calling it in flight', async () => {
    const prefix = `st${randomBytes(4).toString('hex')}:`
    const sealedWith = (encryptionKey: Buffer): IdempotencyStore =>
      new IdempotencyStore({ redis: { client: redis, health: health(true) }, prefix, ttlMs: 60_000, lockTtlMs: 1_000, encryptionKey })
    const before = sealedWith(randomBytes(32))
    const key = before.key('acme', 'rotated')
    const first = await before.begin(key, 'f1')
    if (first.kind !== 'acquired') throw new Error('expected the lock')
    await before.complete(first.lock, 'f1', answer)

    const after = sealedWith(randomBytes(32))
    const retry = await after.begin(key, 'f1')
    expect(retry.kind).toBe('acquired')
    // Any other replica now meets the new lock: in flight until it is answered.
    expect((await sealedWith(randomBytes(32)).begin(key, 'f1')).kind).toBe('in_flight')
  })

  it('keeps an ambiguous marker that a retry takes over and puts back when it releases', async () => {
    const prefix = `st${randomBytes(4).toString('hex')}:`
    const store = new IdempotencyStore({ redis: { client: redis, health: health(true) }, prefix, ttlMs: 60_000, lockTtlMs: 1_000 })
    const key = store.key('acme', 'amb')
    const first = await store.begin(key, 'f1')
    if (first.kind !== 'acquired') throw new Error('expected the lock')
    await store.markAmbiguous(first.lock, 'f1')
    const retry = await store.begin(key, 'f1')
    expect(retry).toMatchObject({ kind: 'acquired', lock: { ambiguous: 'f1' } })
    if (retry.kind !== 'acquired') return
    await store.release(retry.lock)
    expect(await redis.get(key)).toMatch(/^A:/)
  })

  it('does not let a lock that lost the key overwrite the record now there', async () => {
    const store = new IdempotencyStore({ redis: { client: redis, health: health(true) }, prefix: `st${randomBytes(4).toString('hex')}:`, ttlMs: 60_000, lockTtlMs: 100 })
    const key = store.key('acme', 'lost')
    const first = await store.begin(key, 'f1')
    await sleep(150)
    const second = await store.begin(key, 'f1')
    if (first.kind !== 'acquired' || second.kind !== 'acquired') throw new Error('expected two locks')
    await store.complete(second.lock, 'f1', answer)
    await store.release(first.lock)
    expect(await redis.get(key)).toMatch(/^D:/)
  })

  it('fingerprints JSON whatever its key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}')
    expect(fingerprintOf({ a: 1, b: 2 })).toBe(fingerprintOf({ b: 2, a: 1 }))
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: 2 }))
  })
})
