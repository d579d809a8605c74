// Token provider: L1 in-process cache, L2 Redis shared by replicas, one token request per cluster at a time.
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Tenant } from '../config/tenants.js'
import { UpstreamAuthFailedError } from '../errors.js'
import type { TokenGrant } from './oauth.js'
import type { FluentObserver } from './observer.js'
import type { AuthFailure, CachedToken, RedisTokenStore } from './token-store.js'

export interface TokenProviderOptions {
  /** Fetches a token from Fluent (refresh grant when given a refresh token). */
  fetchToken: (tenant: Tenant, refreshToken: string | undefined, signal: AbortSignal) => Promise<TokenGrant>
  /** Shared L2 cache; without it each process keeps its own tokens. */
  store?: RedisTokenStore
  /** Whether Redis may be tried now (false during an outage, until a background ping sees it back). */
  storeUsable?: () => boolean
  /** Longest a token fetch may hold the cluster lock; also bounds how long the others wait. */
  lockTtlMs?: number
  /** How often a waiting process looks for the lock holder's token. */
  pollMs?: number
  /** How long refused credentials are remembered before Fluent is asked again. */
  authFailureBackoffMs?: number
  log?: { warn: (object: object, message: string) => void }
  observer?: FluentObserver
}

/** Renew 20% of the lifetime early, at most five minutes: a 24 h token renews 5 min early, a 10 s one 2 s early. */
export function renewalMargin (lifetimeMs: number): number {
  return Math.min(300_000, Math.floor(lifetimeMs * 0.2))
}

export function toCachedToken (grant: TokenGrant, now = Date.now(), renews: string[] = []): CachedToken {
  const lifetime = grant.expiresInSeconds * 1000
  return {
    accessToken: grant.accessToken,
    expiresAt: now + lifetime,
    renewAt: now + lifetime - renewalMargin(lifetime),
    obtainedAt: now,
    ...(renews.length === 0 ? {} : { renews }),
    ...(grant.refreshToken === undefined ? {} : { refreshToken: grant.refreshToken })
  }
}

/** A short digest naming a token in Redis (a renewal lists the refused tokens it replaces) without holding the token. */
export function tokenFingerprint (accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('hex').slice(0, 16)
}

/** `{tenant}:{fingerprint}`: changed base URL, client or user never reuse an old token. */
export function tokenCacheKey (tenant: Tenant): string {
  const { baseUrl, clientId, username } = tenant.fluent
  const fingerprint = createHash('sha256').update(`${baseUrl}\n${clientId}\n${username}`).digest('hex').slice(0, 16)
  return `${tenant.id}:${fingerprint}`
}

const REDIS_DOWN = Symbol('redis down')

/** How many refused tokens, and tokens handed out, each cache key remembers: a few renewals' worth is plenty. */
const REMEMBERED_TOKENS = 8

/** This process's last 401 for a cache key: when it came, and the fingerprint of the token Fluent refused. */
interface Refusal {
  at: number
  fingerprint: string
}

/** What L2 holds: a token to use as it is, or (stale, or absent) one whose refresh token the lock holder may spend. */
type SharedRead = { usable: CachedToken, stale?: undefined } | { usable?: undefined, stale: CachedToken | undefined }

function remember (list: string[] | undefined, value: string): string[] {
  const next = (list ?? []).filter((entry) => entry !== value)
  next.push(value)
  return next.length > REMEMBERED_TOKENS ? next.slice(-REMEMBERED_TOKENS) : next
}

/** Before its renewal time; after it the token may still work (until expiresAt) but is being replaced. */
function usable (token: CachedToken, now = Date.now()): boolean {
  return now < token.renewAt
}

async function raceSignal<T> (promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await promise
  signal.throwIfAborted()
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

export class TokenProvider {
  readonly #options: Required<Omit<TokenProviderOptions, 'store' | 'log' | 'observer'>> & Pick<TokenProviderOptions, 'store' | 'log' | 'observer'>
  readonly #l1 = new Map<string, CachedToken>()
  readonly #inFlight = new Map<string, Promise<CachedToken>>()
  readonly #authFailures = new Map<string, AuthFailure>()
  /** Tokens Fluent refused, per cache key: a copy still in Redis (or written back by a racing read) is a miss. */
  readonly #refused = new Map<string, string[]>()
  /** The last refusal of a token this process handed out, per cache key: tokens obtained before it are suspect. */
  readonly #refusals = new Map<string, Refusal>()
  /** Tokens this process has put in L1 (and so handed out), per cache key. */
  readonly #handedOut = new Map<string, string[]>()
  readonly #keys = new WeakMap<Tenant, string>()

  constructor (options: TokenProviderOptions) {
    this.#options = {
      storeUsable: () => true,
      lockTtlMs: 10_000,
      pollMs: 20,
      authFailureBackoffMs: 5_000,
      ...options
    }
  }

  #key (tenant: Tenant): string {
    let key = this.#keys.get(tenant)
    if (key === undefined) {
      key = tokenCacheKey(tenant)
      this.#keys.set(tenant, key)
    }
    return key
  }

  /** An access token for the tenant; `signal` bounds this caller's wait, not the shared fetch. */
  async get (tenant: Tenant, signal?: AbortSignal): Promise<string> {
    const key = this.#key(tenant)
    const cached = this.#l1.get(key)
    if (cached !== undefined && this.#fresh(key, cached)) {
      this.#options.observer?.tokenCache?.('l1')
      return cached.accessToken
    }

    let flight = this.#inFlight.get(key)
    if (flight === undefined) {
      flight = this.#obtain(tenant, key, cached).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, flight)
    }
    try {
      return (await raceSignal(flight, signal)).accessToken
    } catch (error) {
      // The renewal is early by design: when it fails, the old token still works until it actually expires.
      if (cached !== undefined && Date.now() < cached.expiresAt && !this.#suspect(key, cached) &&
        signal?.aborted !== true) return cached.accessToken
      throw error
    }
  }

  /**
   * Forgets `accessToken` after Fluent refused it, in L1 and (compare-and-delete) in Redis, unless a newer token has
   * already replaced it there. It is marked refused at once, so a lookup racing the Redis delete cannot bring it back.
   * When this process handed it out, every token obtained before this refusal becomes suspect too (Fluent revokes all
   * of an account's tokens at once), except a renewal made for the refusal of this same token by another replica: the
   * next lookup then renews rather than retrying with another token Fluent has likely revoked. `signal` bounds the
   * wait for Redis.
   */
  async invalidate (tenant: Tenant, accessToken: string, signal?: AbortSignal): Promise<void> {
    const key = this.#key(tenant)
    this.#refused.set(key, remember(this.#refused.get(key), accessToken))
    if (this.#handedOut.get(key)?.includes(accessToken) === true) {
      this.#refusals.set(key, { at: Date.now(), fingerprint: tokenFingerprint(accessToken) })
    }
    if (this.#l1.get(key)?.accessToken === accessToken) this.#l1.delete(key)
    await raceSignal(this.#tryStore(async (store) => { await store.deleteIfSame(key, accessToken) }), signal)
  }

  /** A token to use as it is: before its renewal time and not suspect. */
  #fresh (key: string, token: CachedToken): boolean {
    return usable(token) && !this.#suspect(key, token)
  }

  /**
   * Refused, or obtained before this process's last refusal without being the renewal made for that refused token:
   * such a token is not used again, whatever L1 and L2 went through (a flushed Redis, a replica's own fetch).
   */
  #suspect (key: string, token: CachedToken): boolean {
    if (this.#refused.get(key)?.includes(token.accessToken) === true) return true
    const refusal = this.#refusals.get(key)
    if (refusal === undefined) return false
    const obtainedAt = typeof token.obtainedAt === 'number' ? token.obtainedAt : 0
    if (obtainedAt > refusal.at) return false
    return !(Array.isArray(token.renews) && token.renews.includes(refusal.fingerprint))
  }

  /** Runs a Redis call when Redis is usable; answers REDIS_DOWN instead of throwing when it is not. */
  async #tryStore<T> (call: (store: RedisTokenStore) => Promise<T>): Promise<T | typeof REDIS_DOWN> {
    if (!this.#options.storeUsable()) return REDIS_DOWN
    return await this.#forceStore(call)
  }

  /** Like #tryStore but tries even while Redis is marked down: for the lock holder, who has just talked to it. */
  async #forceStore<T> (call: (store: RedisTokenStore) => Promise<T>): Promise<T | typeof REDIS_DOWN> {
    const store = this.#options.store
    if (store === undefined) return REDIS_DOWN
    try {
      return await call(store)
    } catch {
      return REDIS_DOWN
    }
  }

  #keep (key: string, token: CachedToken): CachedToken {
    this.#l1.set(key, token)
    this.#handedOut.set(key, remember(this.#handedOut.get(key), token.accessToken))
    return token
  }

  /** Reads L2: its token when usable as it is; otherwise (after checking no replica met refused credentials) what is there. */
  async #readShared (key: string): Promise<SharedRead | typeof REDIS_DOWN> {
    const shared = await this.#tryStore(async (store) => await store.get(key))
    if (shared === REDIS_DOWN) return REDIS_DOWN
    if (shared !== undefined && this.#fresh(key, shared)) {
      this.#options.observer?.tokenCache?.('l2')
      return { usable: shared }
    }
    await this.#throwIfRefusedElsewhere(key)
    return { stale: shared }
  }

  async #obtain (tenant: Tenant, key: string, stale: CachedToken | undefined): Promise<CachedToken> {
    this.#throwIfRecentlyRefused(key)
    // A lone process (no Redis configured) owns its refresh token and may spend it.
    if (this.#options.store === undefined) return await this.#fetch(tenant, key, stale, false)
    const deadline = Date.now() + this.#options.lockTtlMs
    for (;;) {
      // Redis down: no lock to be had, and refresh tokens read from Redis are shared and single-use, so the
      // password grant it is (one per process, thanks to the in-process single-flight).
      const shared = await this.#readShared(key)
      if (shared === REDIS_DOWN) return await this.#fetch(tenant, key, undefined, false)
      if (shared.usable !== undefined) return this.#keep(key, shared.usable)

      const owner = await this.#tryStore(async (store) => await store.acquireLock(key, this.#options.lockTtlMs))
      if (owner === REDIS_DOWN) return await this.#fetch(tenant, key, undefined, false)
      if (owner !== undefined) return await this.#fetchAsLockHolder(tenant, key, stale, owner)

      const outcome = await this.#waitForLockHolder(key, deadline)
      if (outcome !== undefined) return this.#keep(key, outcome)
      // The holder vanished without a token (its lock expired or was released): loop and try to take the lock.
      if (Date.now() >= deadline) return await this.#fetch(tenant, key, undefined, false)
    }
  }

  async #fetchAsLockHolder (tenant: Tenant, key: string, stale: CachedToken | undefined, owner: string): Promise<CachedToken> {
    try {
      // Another replica may have stored a token, or met refused credentials, between our read and our lock.
      const shared = await this.#readShared(key)
      if (shared === REDIS_DOWN) return await this.#fetch(tenant, key, undefined, false)
      if (shared.usable !== undefined) return this.#keep(key, shared.usable)
      return await this.#fetch(tenant, key, shared.stale ?? stale, true)
    } finally {
      const released = this.#forceStore(async (store) => { await store.releaseLock(key, owner) })
      // While Redis is down the release would only add its timeout to every waiter here; the lock's PX ends it anyway.
      if (this.#options.storeUsable()) await released
    }
  }

  /** Waits for the lock holder's token; undefined when the lock went away without one. */
  async #waitForLockHolder (key: string, deadline: number): Promise<CachedToken | undefined> {
    while (Date.now() < deadline) {
      await sleep(this.#options.pollMs)
      const shared = await this.#readShared(key)
      if (shared === REDIS_DOWN) return undefined
      if (shared.usable !== undefined) return shared.usable
      const held = await this.#tryStore(async (store) => await store.lockHeld(key))
      if (held !== true) return undefined
    }
    return undefined
  }

  /**
   * Asks Fluent for a token (refresh grant first when `previous` carries a refresh token) and keeps it in L1 and
   * Redis. `holder`: this process holds the cluster lock, so the new token is written even if Redis was just marked down.
   */
  async #fetch (tenant: Tenant, key: string, previous: CachedToken | undefined, holder: boolean): Promise<CachedToken> {
    this.#options.observer?.tokenCache?.('miss')
    const signal = AbortSignal.timeout(this.#options.lockTtlMs)
    const write = holder ? this.#forceStore.bind(this) : this.#tryStore.bind(this)
    let grant: TokenGrant | undefined
    if (previous?.refreshToken !== undefined) {
      try {
        grant = await this.#options.fetchToken(tenant, previous.refreshToken, signal)
      } catch (error) {
        this.#options.log?.warn({ tenant: tenant.id, err: error }, 'refresh grant failed; falling back to the password grant')
      }
    }
    try {
      grant ??= await this.#options.fetchToken(tenant, undefined, signal)
    } catch (error) {
      this.#options.observer?.tokenFetch?.(error instanceof UpstreamAuthFailedError ? 'auth_failed' : 'error')
      if (error instanceof UpstreamAuthFailedError) {
        const failure = { message: error.message, until: Date.now() + this.#options.authFailureBackoffMs }
        this.#authFailures.set(key, failure)
        await write(async (store) => { await store.rememberAuthFailure(key, failure) })
      }
      throw error
    }
    this.#options.observer?.tokenFetch?.('ok')
    this.#authFailures.delete(key)
    // What this token replaces: a replica refused any of these may take it instead of renewing again.
    const replaces = previous === undefined ? this.#refused.get(key) ?? [] : remember(this.#refused.get(key), previous.accessToken)
    const token = toCachedToken(grant, Date.now(), replaces.map(tokenFingerprint))
    await write(async (store) => { await store.set(key, token) })
    return this.#keep(key, token)
  }

  #throwIfRecentlyRefused (key: string): void {
    const failure = this.#authFailures.get(key)
    if (failure === undefined) return
    if (Date.now() < failure.until) throw refusedError(failure)
    this.#authFailures.delete(key)
  }

  /** Another replica met refused credentials moments ago: answer as it did, without asking Fluent again. */
  async #throwIfRefusedElsewhere (key: string): Promise<void> {
    if (this.#options.authFailureBackoffMs <= 0) return
    const failure = await this.#tryStore(async (store) => await store.authFailure(key))
    if (failure === REDIS_DOWN || failure === undefined || Date.now() >= failure.until) return
    this.#authFailures.set(key, failure)
    throw refusedError(failure)
  }
}

function refusedError (failure: AuthFailure): Error {
  return new UpstreamAuthFailedError(`${failure.message} (remembered; Fluent is asked again after a short back-off)`)
}
