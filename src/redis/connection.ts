// The gateway's Redis connection (standalone, Sentinel or Cluster) and its health: short timeouts, no offline queue, one warning per outage.
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import type { HostPort, RedisSettings } from '../config/redis-settings.js'
import type { RedisHealth } from '../fluent/token-store.js'

export type RedisState = 'up' | 'down' | 'disabled'

interface Logger {
  warn: (object: object, message: string) => void
  info: (object: object, message: string) => void
}

/** How often Redis is pinged: while up, so a silent outage (a paused server) shows in /readyz; while down, to notice recovery. */
const PROBE_INTERVAL_MS = 1_000

/** Tracks whether Redis answers; callers skip Redis entirely while it is down, and a background ping notices its return. */
export class RedisHealthTracker implements RedisHealth {
  #state: 'up' | 'down' = 'up'
  readonly #log: Logger

  constructor (log: Logger) {
    this.#log = log
  }

  get state (): 'up' | 'down' {
    return this.#state
  }

  /**
   * True while Redis is up. While it is down no request tries it: a paused Redis keeps the socket open, so every
   * command would wait the full command timeout; the periodic ping alone finds out when it is back.
   */
  usable (): boolean {
    return this.#state === 'up'
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
      this.#log.warn({ redis: 'down', err: redisErrorSummary(error) }, 'Redis is unreachable; serving from the in-process cache until it returns')
    }
  }
}

/**
 * What an operator needs from a Redis error, and nothing more: ioredis attaches the failed command with its arguments
 * to reply and abort errors, and those arguments can be a token being stored.
 */
export function redisErrorSummary (error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error))
  const summary = new Error(error.message)
  summary.name = error.name
  if (error.stack !== undefined) summary.stack = error.stack
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? Object.assign(summary, { code }) : summary
}

/** Which Redis to talk to and the ioredis options to do it with. */
export type RedisTarget =
  | { mode: 'standalone', url: string, options: RedisOptions }
  | { mode: 'sentinel', options: RedisOptions }
  | { mode: 'cluster', nodes: HostPort[], options: ClusterOptions }

/** Builds the ioredis options from the configuration; undefined when no Redis is configured. */
export function redisTarget (config: { redis: RedisSettings | undefined, REDIS_COMMAND_TIMEOUT_MS: number }): RedisTarget | undefined {
  const settings = config.redis
  if (settings === undefined) return undefined
  const timeout = config.REDIS_COMMAND_TIMEOUT_MS
  // Fail fast instead of queueing or retrying: the gateway has an in-process fallback for every Redis use.
  const common: RedisOptions = {
    enableOfflineQueue: false,
    commandTimeout: timeout,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1_000, timeout * 4),
    // Commands issued in the same tick share one write (one syscall) instead of one each.
    enableAutoPipelining: true,
    ...(settings.password === undefined ? {} : { password: settings.password })
  }
  // Reconnect quickly but never give up: Redis coming back must be noticed without a restart.
  const retryStrategy = (attempt: number): number => Math.min(attempt * 100, 1_000)

  switch (settings.mode) {
    case 'cluster':
      return {
        mode: 'cluster',
        nodes: settings.nodes,
        options: {
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          clusterRetryStrategy: retryStrategy,
          // Each command touches one key, so keys of one tenant may live on different nodes; a MOVED is followed a few times at most.
          maxRedirections: 3,
          retryDelayOnFailover: 50,
          retryDelayOnClusterDown: 100,
          redisOptions: common
        }
      }
    case 'sentinel':
      return {
        mode: 'sentinel',
        options: {
          ...common,
          sentinels: settings.sentinels,
          name: settings.name,
          ...(settings.sentinelPassword === undefined ? {} : { sentinelPassword: settings.sentinelPassword }),
          sentinelRetryStrategy: retryStrategy,
          retryStrategy
        }
      }
    case 'standalone':
      return { mode: 'standalone', url: settings.url, options: { ...common, retryStrategy } }
  }
}

export interface RedisConnection {
  client: Redis | Cluster
  health: RedisHealthTracker
  close: () => Promise<void>
}

export function connectRedis (target: RedisTarget, log: Logger): RedisConnection {
  const health = new RedisHealthTracker(log)
  const client = target.mode === 'cluster'
    ? new Cluster(target.nodes, target.options)
    : target.mode === 'sentinel' ? new Redis(target.options) : new Redis(target.url, target.options)
  let closing = false
  // Connection errors and closes mark the outage at once (one warning); 'error' also needs a listener or it would throw.
  client.on('error', (error) => { if (!closing) health.failed(error) })
  client.on('close', () => { if (!closing) health.failed(new Error('connection to Redis closed')) })
  client.on('ready', () => { health.succeeded() })

  let probing = false
  const probe = setInterval(() => {
    if (probing || closing) return
    probing = true
    client.ping().then(() => { health.succeeded() }, (error: unknown) => { health.failed(error) }).finally(() => { probing = false })
  }, PROBE_INTERVAL_MS)
  probe.unref()

  return {
    client,
    health,
    async close () {
      closing = true
      clearInterval(probe)
      client.disconnect()
    }
  }
}
