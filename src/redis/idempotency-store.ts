// Idempotency records (in flight, answered, ambiguous) in Redis, sealed like tokens, with an in-process map beside it for Redis outages.
import { createHash, randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { RedisHealth } from '../fluent/token-store.js'
import { seal, unseal } from './sealed.js'

/** JSON with every object's keys sorted, recursively: two bodies that differ only in key order are the same request. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** SHA-256 (hex) of a body: canonical JSON for parsed bodies, the bytes as they came for anything else. */
export function fingerprintOf (body: unknown): string {
  const hash = createHash('sha256')
  if (Buffer.isBuffer(body) || typeof body === 'string') hash.update(body)
  else hash.update(canonicalJson(body ?? null))
  return hash.digest('hex')
}

/** An answer as stored and replayed: status, the headers that matter, the body's bytes (base64). */
export interface StoredAnswer {
  status: number
  /** Lower-case names: `content-type` and, when the answer had one, `location`. */
  headers: Record<string, string>
  body: string
}

/** A lock on one key: who holds it (the exact value written) and where (Redis, or this process while Redis is down). */
export interface IdempotencyLock {
  readonly key: string
  readonly value: string
  readonly where: 'redis' | 'memory'
  /** The fingerprint of an earlier attempt that ended ambiguously (502/504): its marker comes back if this lock is released. */
  readonly ambiguous: string | undefined
}

export type BeginResult =
  | { kind: 'acquired', lock: IdempotencyLock }
  | { kind: 'in_flight' }
  | { kind: 'done', fingerprint: string, answer: StoredAnswer }

export interface IdempotencyStoreOptions {
  /** Absent: records live in this process only. */
  redis?: { client: Redis | Cluster, health: RedisHealth & { usable: () => boolean } } | undefined
  prefix: string
  /** How long answers and ambiguous markers are kept (IDEMPOTENCY_TTL_S). */
  ttlMs: number
  /** How long an in-flight lock outlives a process that died holding it. */
  lockTtlMs: number
  /** 32 bytes: records are AES-256-GCM ciphertext bound to their Redis key when set. */
  encryptionKey?: Buffer | undefined
  /** Bounds of the in-process map (oldest records go first). */
  memoryMaxEntries?: number
  memoryMaxBytes?: number
  now?: () => number
}

/**
 * Takes the lock unless a record other than an ambiguous marker is there. Answers a string when it took the lock (the
 * marker it replaced, or ''), or a one-element array holding the record found.
 */
const BEGIN = `local current = redis.call('GET', KEYS[1])
if current == false or string.sub(current, 1, 2) == 'A:' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  if current == false then return '' end
  return current
end
return {current}`

/** Replaces (ARGV[2], PX ARGV[3]) or, given '', deletes the key only while it still holds ARGV[1]: the lock's own value. */
const SWAP = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`

type State = 'F' | 'D' | 'A'
interface InFlightRecord { owner: string, fingerprint?: string }
interface DoneRecord { fingerprint: string, answer: StoredAnswer }
interface AmbiguousRecord { fingerprint: string }

interface MemoryEntry { value: string, expiresAt: number }

/**
 * Redis values are `<state>:<sealed JSON>`, the state in the clear so the scripts can tell an ambiguous marker (which
 * a retry may take over) from a lock or an answer. In memory the same layout, unsealed.
 */
export class IdempotencyStore {
  readonly #redis: IdempotencyStoreOptions['redis']
  readonly #prefix: string
  readonly #ttlMs: number
  readonly #lockTtlMs: number
  readonly #encryptionKey: Buffer | undefined
  readonly #memory = new Map<string, MemoryEntry>()
  readonly #maxEntries: number
  readonly #maxBytes: number
  #bytes = 0
  readonly #now: () => number

  constructor (options: IdempotencyStoreOptions) {
    this.#redis = options.redis
    this.#prefix = options.prefix
    this.#ttlMs = options.ttlMs
    this.#lockTtlMs = options.lockTtlMs
    this.#encryptionKey = options.encryptionKey
    this.#maxEntries = options.memoryMaxEntries ?? 10_000
    this.#maxBytes = options.memoryMaxBytes ?? 32 * 1024 * 1024
    this.#now = options.now ?? Date.now
  }

  /** The Redis key of one scope: the tenant in the clear (to find a tenant's records), the rest hashed by the caller. */
  key (tenant: string, scopeHash: string): string {
    return `${this.#prefix}idem:${tenant}:${scopeHash}`
  }

  /**
   * The first step of every request that carries a key: an answer this process already gave is served from memory (no
   * Redis call); otherwise one Redis script takes the lock or returns the record there. Redis down: memory alone.
   */
  async begin (key: string, fingerprint: string | undefined): Promise<BeginResult> {
    const remembered = this.#memoryGet(key)
    if (remembered !== undefined && remembered.startsWith('D:')) return this.#result(key, remembered, 'memory')
    const lockRecord: InFlightRecord = { owner: randomBytes(12).toString('hex'), ...(fingerprint === undefined ? {} : { fingerprint }) }
    if (this.#redisUsable()) {
      const value = this.#encode(key, 'F', lockRecord)
      try {
        const answer = await this.#run(async () => await this.#client().eval(BEGIN, 1, key, value, this.#lockTtlMs) as string | [string])
        if (typeof answer === 'string') return { kind: 'acquired', lock: { key, value, where: 'redis', ambiguous: this.#ambiguousFingerprint(key, answer) } }
        const [stored] = answer
        // An answer or marker sealed with another TOKEN_ENCRYPTION_KEY (rotated) can never be replayed: take the key over
        // rather than answer "in flight" until it expires. A lock stays a lock: its TTL ends it.
        if (!stored.startsWith('F:') && this.#decode(key, stored, 'redis') === undefined) {
          const taken = await this.#run(async () => await this.#client().eval(SWAP, 1, key, stored, value, this.#lockTtlMs))
          if (taken === 1) return { kind: 'acquired', lock: { key, value, where: 'redis', ambiguous: undefined } }
        }
        return this.#result(key, stored, 'redis')
      } catch {
        // Fall through: this process alone guards the key until Redis is back.
      }
    }
    const current = remembered
    if (current === undefined || current.startsWith('A:')) {
      const plain = this.#plainEncode('F', lockRecord)
      this.#memorySet(key, plain, this.#lockTtlMs)
      return { kind: 'acquired', lock: { key, value: plain, where: 'memory', ambiguous: current === undefined ? undefined : this.#ambiguousFingerprint(key, current, 'memory') } }
    }
    return this.#result(key, current, 'memory')
  }

  /** Stores the answer in place of the lock (only while this lock still holds the key), and in memory for Redis outages. */
  async complete (lock: IdempotencyLock, fingerprint: string, answer: StoredAnswer): Promise<void> {
    const record: DoneRecord = { fingerprint, answer }
    this.#memorySwap(lock, this.#plainEncode('D', record), this.#ttlMs, lock.where === 'redis')
    if (lock.where === 'redis') await this.#redisSwap(lock, this.#encode(lock.key, 'D', record), this.#ttlMs)
  }

  /** Ends the lock with a marker kept for the TTL: the attempt may have reached Fluent, so a retry may meet its entity. */
  async markAmbiguous (lock: IdempotencyLock, fingerprint: string): Promise<void> {
    const record: AmbiguousRecord = { fingerprint }
    // Kept in memory too, so a retry that arrives during a Redis outage can still recover the entity.
    this.#memorySwap(lock, this.#plainEncode('A', record), this.#ttlMs, lock.where === 'redis')
    if (lock.where === 'redis') await this.#redisSwap(lock, this.#encode(lock.key, 'A', record), this.#ttlMs)
  }

  /** Drops the lock (nothing stored), putting back the ambiguous marker it replaced, if any. */
  async release (lock: IdempotencyLock): Promise<void> {
    const marker: AmbiguousRecord | undefined = lock.ambiguous === undefined ? undefined : { fingerprint: lock.ambiguous }
    if (lock.where === 'memory') {
      this.#memorySwap(lock, marker === undefined ? '' : this.#plainEncode('A', marker), this.#ttlMs, false)
    } else {
      await this.#redisSwap(lock, marker === undefined ? '' : this.#encode(lock.key, 'A', marker), this.#ttlMs)
    }
  }

  #client (): Redis | Cluster {
    return (this.#redis as NonNullable<IdempotencyStoreOptions['redis']>).client
  }

  #redisUsable (): boolean {
    return this.#redis !== undefined && this.#redis.health.usable()
  }

  async #run<T> (call: () => Promise<T>): Promise<T> {
    const health = (this.#redis as NonNullable<IdempotencyStoreOptions['redis']>).health
    try {
      const result = await call()
      health.succeeded()
      return result
    } catch (error) {
      health.failed(error)
      throw error
    }
  }

  /** A swap that cannot reach Redis leaves the lock to expire by itself; never waits on a Redis known to be down. */
  async #redisSwap (lock: IdempotencyLock, next: string, ttlMs: number): Promise<void> {
    if (!this.#redisUsable()) return
    try {
      await this.#run(async () => await this.#client().eval(SWAP, 1, lock.key, lock.value, next, ttlMs))
    } catch {
      // Reported to the health tracker; the lock's own TTL ends it.
    }
  }

  #result (key: string, value: string, where: 'redis' | 'memory'): BeginResult {
    if (value.startsWith('D:')) {
      const record = this.#decode<DoneRecord>(key, value, where)
      if (record !== undefined && typeof record.fingerprint === 'string' && typeof record.answer?.status === 'number') {
        return { kind: 'done', fingerprint: record.fingerprint, answer: record.answer }
      }
    }
    // A lock (or, when it could not be taken over, a record that does not open): the key is busy, not free to run again.
    return { kind: 'in_flight' }
  }

  #ambiguousFingerprint (key: string, value: string, where: 'redis' | 'memory' = 'redis'): string | undefined {
    if (value === '') return undefined
    return this.#decode<AmbiguousRecord>(key, value, where)?.fingerprint
  }

  #encode (key: string, state: State, record: InFlightRecord | DoneRecord | AmbiguousRecord): string {
    return `${state}:${seal(this.#encryptionKey, key, JSON.stringify(record))}`
  }

  /** Memory holds the same layout unsealed: it never leaves the process. */
  #plainEncode (state: State, record: InFlightRecord | DoneRecord | AmbiguousRecord): string {
    return `${state}:${JSON.stringify(record)}`
  }

  #decode<T> (key: string, value: string, where: 'redis' | 'memory'): T | undefined {
    const body = value.slice(2)
    const json = where === 'memory' ? body : unseal(this.#encryptionKey, key, body)
    if (json === undefined) return undefined
    try {
      return JSON.parse(json) as T
    } catch {
      return undefined
    }
  }

  #memoryGet (key: string): string | undefined {
    const entry = this.#memory.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#memoryDelete(key)
      return undefined
    }
    return entry.value
  }

  /** Memory's compare-and-swap; `always` writes whatever is there (an answer given through Redis, copied here). */
  #memorySwap (lock: IdempotencyLock, next: string, ttlMs: number, always: boolean): void {
    if (!always && this.#memoryGet(lock.key) !== lock.value) return
    if (next === '') this.#memoryDelete(lock.key)
    else this.#memorySet(lock.key, next, ttlMs)
  }

  #memorySet (key: string, value: string, ttlMs: number): void {
    this.#memoryDelete(key)
    this.#memory.set(key, { value, expiresAt: this.#now() + ttlMs })
    this.#bytes += key.length + value.length
    // Oldest first (a Map keeps insertion order): past either bound the records least likely to be retried go.
    for (const [oldest] of this.#memory) {
      if (this.#memory.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break
      this.#memoryDelete(oldest)
    }
  }

  #memoryDelete (key: string): void {
    const entry = this.#memory.get(key)
    if (entry === undefined) return
    this.#bytes -= key.length + entry.value.length
    this.#memory.delete(key)
  }
}
