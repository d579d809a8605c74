// The shared (L2) token cache in Redis: tokens, optionally encrypted; the refresh lock; remembered credential failures.
import { randomBytes } from 'node:crypto'
import type { Redis, Cluster } from 'ioredis'
import { seal, unseal } from '../redis/sealed.js'

/** A token as cached: when it expires and, when Fluent gave one, its single-use refresh token. */
export interface CachedToken {
  accessToken: string
  /** Epoch ms at which Fluent stops accepting it. */
  expiresAt: number
  /** Epoch ms from which the gateway renews it instead of using it. */
  renewAt: number
  refreshToken?: string
  /** Epoch ms at which a process got it from Fluent; absent on tokens cached by older versions (treated as oldest). */
  obtainedAt?: number
  /**
   * Fingerprints (tokenFingerprint) of the tokens whose refusal this one was fetched to replace: a replica that meets
   * a 401 with one of them may use this token even though it was obtained before that replica's own 401.
   */
  renews?: string[]
}

/** Fluent refused a tenant's credentials: what it said, and until when (epoch ms) nobody asks again. */
export interface AuthFailure {
  message: string
  until: number
}

/** Told about every Redis success and failure, so outages are noticed and logged once. */
export interface RedisHealth {
  succeeded: () => void
  failed: (error: unknown) => void
}

export interface TokenStoreOptions {
  redis: Redis | Cluster
  prefix: string
  health: RedisHealth
  /** 32 bytes: tokens are AES-256-GCM ciphertext bound to their key when set. */
  encryptionKey?: Buffer
}

/** Deletes a key only while it still holds the given value: lock release and token invalidation both need it. */
const COMPARE_AND_DELETE = 'if redis.call(\'get\', KEYS[1]) == ARGV[1] then return redis.call(\'del\', KEYS[1]) else return 0 end'

export class RedisTokenStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #health: RedisHealth
  readonly #key: Buffer | undefined

  constructor (options: TokenStoreOptions) {
    this.#redis = options.redis
    this.#prefix = options.prefix
    this.#health = options.health
    this.#key = options.encryptionKey
  }

  tokenKey (cacheKey: string): string {
    return `${this.#prefix}token:${cacheKey}`
  }

  /** Runs one Redis call and reports its outcome; failures are rethrown for the caller to fall back. */
  async #run<T> (call: () => Promise<T>): Promise<T> {
    try {
      const result = await call()
      this.#health.succeeded()
      return result
    } catch (error) {
      this.#health.failed(error)
      throw error
    }
  }

  async get (cacheKey: string): Promise<CachedToken | undefined> {
    const key = this.tokenKey(cacheKey)
    const value = await this.#run(async () => await this.#redis.get(key))
    return value === null ? undefined : this.#decode(key, value)
  }

  async set (cacheKey: string, token: CachedToken): Promise<void> {
    const key = this.tokenKey(cacheKey)
    const ttl = Math.max(1, token.expiresAt - Date.now())
    await this.#run(async () => await this.#redis.set(key, this.#encode(key, token), 'PX', ttl))
  }

  /** Drops the cached token only if it is still `accessToken`, so a fresh token from another replica survives. */
  async deleteIfSame (cacheKey: string, accessToken: string): Promise<void> {
    const key = this.tokenKey(cacheKey)
    const stored = await this.#run(async () => await this.#redis.get(key))
    if (stored === null || this.#decode(key, stored)?.accessToken !== accessToken) return
    // Compare on the stored (possibly encrypted) value, so a token written in between is left alone.
    await this.#run(async () => await this.#redis.eval(COMPARE_AND_DELETE, 1, key, stored))
  }

  /** Takes the cluster-wide refresh lock; answers the owner id, or undefined when another process holds it. */
  async acquireLock (cacheKey: string, ttlMs: number): Promise<string | undefined> {
    const owner = randomBytes(16).toString('hex')
    const answer = await this.#run(async () => await this.#redis.set(`${this.#prefix}lock:${cacheKey}`, owner, 'PX', ttlMs, 'NX'))
    return answer === 'OK' ? owner : undefined
  }

  async releaseLock (cacheKey: string, owner: string): Promise<void> {
    await this.#run(async () => await this.#redis.eval(COMPARE_AND_DELETE, 1, `${this.#prefix}lock:${cacheKey}`, owner))
  }

  async lockHeld (cacheKey: string): Promise<boolean> {
    return await this.#run(async () => await this.#redis.exists(`${this.#prefix}lock:${cacheKey}`)) === 1
  }

  /** Remembers that Fluent refused the credentials, so other replicas answer at once during the back-off. */
  async rememberAuthFailure (cacheKey: string, failure: AuthFailure): Promise<void> {
    const ttl = Math.max(1, failure.until - Date.now())
    await this.#run(async () => await this.#redis.set(`${this.#prefix}authfail:${cacheKey}`, JSON.stringify(failure), 'PX', ttl))
  }

  async authFailure (cacheKey: string): Promise<AuthFailure | undefined> {
    const value = await this.#run(async () => await this.#redis.get(`${this.#prefix}authfail:${cacheKey}`))
    if (value === null) return undefined
    try {
      const failure = JSON.parse(value) as AuthFailure
      return typeof failure.message === 'string' && typeof failure.until === 'number' ? failure : undefined
    } catch {
      return undefined
    }
  }

  #encode (key: string, token: CachedToken): string {
    return seal(this.#key, key, JSON.stringify(token))
  }

  /** A value that does not decrypt (other key, copied from another tenant, tampered) or parse is a miss. */
  #decode (key: string, value: string): CachedToken | undefined {
    const json = unseal(this.#key, key, value)
    if (json === undefined) return undefined
    try {
      const token = JSON.parse(json) as CachedToken
      return typeof token.accessToken === 'string' && typeof token.expiresAt === 'number' && typeof token.renewAt === 'number' ? token : undefined
    } catch {
      return undefined
    }
  }
}
