// The gateway's Redis connection and its health: short command timeouts, no offline queue, one warning per outage.
import { Redis } from 'ioredis'
import type { RedisHealth } from './fluent/token-store.js'

export type RedisState = 'up' | 'down' | 'disabled'

interface Logger {
  warn: (object: object, message: string) => void
  info: (object: object, message: string) => void
}

/** While Redis is down, one command in this many milliseconds probes whether it is back. */
const PROBE_INTERVAL_MS = 1_000

/** Tracks whether Redis answers; callers skip Redis while it is down, except for a periodic probe. */
export class RedisHealthTracker implements RedisHealth {
  #state: 'up' | 'down' = 'up'
  #lastProbe = 0
  readonly #log: Logger

  constructor (log: Logger) {
    this.#log = log
  }

  get state (): 'up' | 'down' {
    return this.#state
  }

  /** True while Redis is up; while it is down, true once per probe interval so recovery is noticed. */
  usable (): boolean {
    if (this.#state === 'up') return true
    const now = Date.now()
    if (now - this.#lastProbe < PROBE_INTERVAL_MS) return false
    this.#lastProbe = now
    return true
  }

  succeeded (): void {
    if (this.#state === 'down') {
      this.#state = 'up'
      this.#log.info({ redis: 'up' }, 'Redis is reachable again; sharing tokens through it')
    }
  }

  failed (error: unknown): void {
    if (this.#state === 'up') {
      this.#state = 'down'
      this.#lastProbe = Date.now()
      this.#log.warn({ redis: 'down', err: error }, 'Redis is unreachable; serving from the in-process cache until it returns')
    }
  }
}

export interface RedisConnection {
  client: Redis
  health: RedisHealthTracker
  close: () => Promise<void>
}

export function connectRedis (url: string, commandTimeoutMs: number, log: Logger): RedisConnection {
  const health = new RedisHealthTracker(log)
  const client = new Redis(url, {
    // Fail fast instead of queueing: the gateway has an in-process fallback for every Redis use.
    enableOfflineQueue: false,
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1_000, commandTimeoutMs * 4),
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    lazyConnect: false
  })
  // Connection errors are reported through health when a command fails; the event itself needs a listener.
  client.on('error', (error) => { health.failed(error) })
  client.on('ready', () => { health.succeeded() })

  return {
    client,
    health,
    async close () {
      client.disconnect()
    }
  }
}
