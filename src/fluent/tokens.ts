// Token provider: L1 in-process cache, L2 Redis shared by replicas, one token request per cluster at a time.
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Tenant } from '../config/tenants.js'
import { UpstreamAuthFailedError } from '../errors.js'
import type { TokenGrant } from './oauth.js'
import type { FluentObserver } from './observer.js'
import type { CachedToken, RedisTokenStore } from './token-store.js'

export interface TokenProviderOptions {
  /** Fetches a token from Fluent (refresh grant when given a refresh token). */
  fetchToken: (tenant: Tenant, refreshToken: string | undefined, signal: AbortSignal) => Promise<TokenGrant>
  /** Shared L2 cache; without it each process keeps its own tokens. */
  store?: RedisTokenStore
  /** Whether Redis may be tried now (false during an outage, between recovery probes). */
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

export function toCachedToken (grant: TokenGrant, now = Date.now()): CachedToken {
  const lifetime = grant.expiresInSeconds * 1000
  return {
    accessToken: grant.accessToken,
    expiresAt: now + lifetime,
    renewAt: now + lifetime - renewalMargin(lifetime),
    ...(grant.refreshToken === undefined ? {} : { refreshToken: grant.refreshToken })
  }
}

/** `{tenant}:{fingerprint}`: changed base URL, client or user never reuse an old token. */
export function tokenCacheKey (tenant: Tenant): string {
  const { baseUrl, clientId, username } = tenant.fluent
  const fingerprint = createHash('sha256').update(`${baseUrl}\n${clientId}\n${username}`).digest('hex').slice(0, 16)
  return `${tenant.id}:${fingerprint}`
}

const REDIS_DOWN = Symbol('redis down')

function usable (token: CachedToken | undefined, now = Date.now()): token is CachedToken {
  return token !== undefined && now < token.renewAt
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
  readonly #authFailures = new Map<string, { until: number, message: string }>()
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
    if (usable(cached)) {
      this.#options.observer?.tokenCache?.('l1')
      return cached.accessToken
    }

    let flight = this.#inFlight.get(key)
    if (flight === undefined) {
      flight = this.#obtain(tenant, key, cached).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, flight)
    }
    return (await raceSignal(flight, signal)).accessToken
  }

  /** Forgets `accessToken` after Fluent refused it, unless a newer token has already replaced it. */
  async invalidate (tenant: Tenant, accessToken: string): Promise<void> {
    const key = this.#key(tenant)
    if (this.#l1.get(key)?.accessToken === accessToken) this.#l1.delete(key)
    await this.#tryStore(async (store) => { await store.deleteIfSame(key, accessToken) })
  }

  /** Runs a Redis call when Redis is usable; answers REDIS_DOWN instead of throwing when it is not. */
  async #tryStore<T> (call: (store: RedisTokenStore) => Promise<T>): Promise<T | typeof REDIS_DOWN> {
    const store = this.#options.store
    if (store === undefined || !this.#options.storeUsable()) return REDIS_DOWN
    try {
      return await call(store)
    } catch {
      return REDIS_DOWN
    }
  }

  #keep (key: string, token: CachedToken): CachedToken {
    this.#l1.set(key, token)
    return token
  }

  async #obtain (tenant: Tenant, key: string, stale: CachedToken | undefined): Promise<CachedToken> {
    this.#throwIfRecentlyRefused(tenant, key)
    const deadline = Date.now() + this.#options.lockTtlMs
    for (;;) {
      const shared = await this.#tryStore(async (store) => await store.get(key))
      if (shared === REDIS_DOWN) return await this.#fetch(tenant, key, stale)
      if (usable(shared)) {
        this.#options.observer?.tokenCache?.('l2')
        return this.#keep(key, shared)
      }

      const owner = await this.#tryStore(async (store) => await store.acquireLock(key, this.#options.lockTtlMs))
      if (owner === REDIS_DOWN) return await this.#fetch(tenant, key, stale)
      if (owner !== undefined) return await this.#fetchAsLockHolder(tenant, key, shared ?? stale, owner)

      const outcome = await this.#waitForLockHolder(tenant, key, deadline)
      if (outcome !== undefined) return this.#keep(key, outcome)
      // The holder vanished (its lock expired or it failed): loop and try to take the lock ourselves.
      if (Date.now() >= deadline) return await this.#fetch(tenant, key, stale)
    }
  }

  async #fetchAsLockHolder (tenant: Tenant, key: string, previous: CachedToken | undefined, owner: string): Promise<CachedToken> {
    try {
      // Another replica may have stored a token between our read and our lock.
      const shared = await this.#tryStore(async (store) => await store.get(key))
      if (shared !== REDIS_DOWN && usable(shared)) return this.#keep(key, shared)
      const latest = shared === REDIS_DOWN ? previous : shared ?? previous
      return await this.#fetch(tenant, key, latest)
    } finally {
      await this.#tryStore(async (store) => { await store.releaseLock(key, owner) })
    }
  }

  /** Waits for the lock holder's token; undefined when the lock went away without one. */
  async #waitForLockHolder (tenant: Tenant, key: string, deadline: number): Promise<CachedToken | undefined> {
    while (Date.now() < deadline) {
      await sleep(this.#options.pollMs)
      const shared = await this.#tryStore(async (store) => await store.get(key))
      if (shared === REDIS_DOWN) return undefined
      if (usable(shared)) return shared
      const refused = await this.#tryStore(async (store) => await store.authFailure(key))
      if (typeof refused === 'string') this.#refused(tenant, key, refused)
      const held = await this.#tryStore(async (store) => await store.lockHeld(key))
      if (held !== true) return undefined
    }
    return undefined
  }

  /** Asks Fluent for a token (refresh grant first when we hold a refresh token) and keeps it in L1 and, when it can, in Redis. */
  async #fetch (tenant: Tenant, key: string, previous: CachedToken | undefined): Promise<CachedToken> {
    this.#options.observer?.tokenCache?.('miss')
    const signal = AbortSignal.timeout(this.#options.lockTtlMs)
    let grant: TokenGrant | undefined
    // Refresh tokens are single-use: only a lock holder (or a lone process without Redis) may spend one.
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
        const until = Date.now() + this.#options.authFailureBackoffMs
        this.#authFailures.set(key, { until, message: error.message })
        await this.#tryStore(async (store) => { await store.rememberAuthFailure(key, error.message, this.#options.authFailureBackoffMs) })
      }
      throw error
    }
    this.#options.observer?.tokenFetch?.('ok')
    this.#authFailures.delete(key)
    const token = toCachedToken(grant)
    await this.#tryStore(async (store) => { await store.set(key, token) })
    return this.#keep(key, token)
  }

  #throwIfRecentlyRefused (tenant: Tenant, key: string): void {
    const failure = this.#authFailures.get(key)
    if (failure !== undefined && Date.now() < failure.until) this.#refused(tenant, key, failure.message)
  }

  #refused (tenant: Tenant, key: string, message: string): never {
    if (!this.#authFailures.has(key)) this.#authFailures.set(key, { until: Date.now() + this.#options.authFailureBackoffMs, message })
    throw new UpstreamAuthFailedError(`${message} (remembered; Fluent is asked again after a short back-off)`)
  }
}
