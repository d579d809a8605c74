// The live schema check: each tenant's Fluent schema, introspected (one replica per tenant at a time, shared through
// Redis), against every document the gateway may send. Drifted documents are refused before they are sent.
import { createHash, randomUUID } from 'node:crypto'
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery } from 'graphql'
import type { Tenant } from '../config/tenants.js'
import { documentProblems, type GatewayDocument } from './documents.js'

export type SchemaState = 'ok' | 'drift' | 'unknown'

/** The Redis commands the check uses, as the plugin adapts them from ioredis (Redis or Cluster). */
export interface SchemaCheckRedis {
  get: (key: string) => Promise<string | null>
  /** SET key value PX ms, with NX when onlyIfAbsent; answers whether it was set. */
  set: (key: string, value: string, ms: number, onlyIfAbsent: boolean) => Promise<boolean>
  /** Runs a Lua script over one key. */
  eval: (script: string, key: string, arg: string) => Promise<unknown>
}

interface Log {
  warn: (object: Record<string, unknown>, message: string) => void
  info: (object: Record<string, unknown>, message: string) => void
  debug: (object: Record<string, unknown>, message: string) => void
}

export interface SchemaCheckOptions {
  tenants: Tenant[]
  documents: GatewayDocument[]
  /** Sends the introspection query with the tenant's token and answers its `data`. */
  introspect: (tenant: Tenant, query: string) => Promise<unknown>
  intervalMs: number
  redis?: { client: SchemaCheckRedis, prefix: string, usable: () => boolean } | undefined
  log: Log
  /** A document's drift flag for a tenant changed (or was first decided): the metric. */
  onDrift?: (tenant: string, name: string, drifted: boolean) => void
}

interface Introspection {
  hash: string
  data: IntrospectionQuery
}

interface TenantCheck {
  state: SchemaState
  hash?: string
  /** Document name → the first GraphQL error, for the documents that no longer validate. */
  drifted: Map<string, string>
}

/** Deletes the lock only while it is still ours: a holder that outlived its TTL must not free another replica's lock. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
const WAIT_STEP_MS = 200

export class SchemaCheck {
  readonly #options: SchemaCheckOptions
  readonly #checks = new Map<string, TenantCheck>()
  /** Built schemas by introspection hash: tenants on one Fluent release share one. */
  readonly #schemas = new Map<string, GraphQLSchema>()
  readonly #owner = randomUUID()
  readonly #documents: Map<string, string>
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor (options: SchemaCheckOptions) {
    this.#options = options
    this.#documents = new Map(options.documents.map(({ name, document }) => [name, document]))
    for (const tenant of options.tenants) this.#checks.set(tenant.id, { state: 'unknown', drifted: new Map() })
  }

  /** Each tenant's state: ok, drift (some document no longer validates) or unknown (not checked, or introspection failed). */
  states (): Record<string, SchemaState> {
    return Object.fromEntries([...this.#checks].map(([tenant, check]) => [tenant, check.state]))
  }

  /**
   * Why this tenant's live schema refuses the named document, or undefined to send it. Given the query about to be
   * sent, only the gateway's own document under that name is refused: a /graphql caller's document that happens to
   * share an operationName goes through.
   */
  refuses (tenant: Tenant, name: string, query?: string): string | undefined {
    const reason = this.#checks.get(tenant.id)?.drifted.get(name)
    if (reason === undefined || query === undefined) return reason
    return this.#documents.get(name) === query ? reason : undefined
  }

  /** Checks every tenant now, then every intervalMs (timers unref'd: they never hold the process open). */
  start (): void {
    if (this.#options.intervalMs <= 0) return
    const run = (): void => {
      this.checkAll().finally(() => {
        if (this.#stopped) return
        this.#timer = setTimeout(run, this.#options.intervalMs)
        this.#timer.unref()
      }).catch(() => {})
    }
    this.#timer = setTimeout(run, 0)
    this.#timer.unref()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  async checkAll (): Promise<void> {
    await Promise.all(this.#options.tenants.map(async (tenant) => { await this.checkTenant(tenant) }))
  }

  async checkTenant (tenant: Tenant): Promise<void> {
    const check = this.#checks.get(tenant.id) ?? { state: 'unknown' as const, drifted: new Map<string, string>() }
    this.#checks.set(tenant.id, check)
    let introspection: Introspection | 'pending' | undefined
    try {
      introspection = await this.#obtain(tenant)
    } catch (error) {
      if (this.#stopped) return
      this.#options.log.warn({ tenant: tenant.id, err: error }, 'schema check: introspecting Fluent failed; its schema is unknown and requests go through unchecked')
      introspection = undefined
    }
    // Another replica is introspecting and has not shared the result yet: the next round will read it.
    if (introspection === 'pending') return
    if (introspection === undefined) {
      this.#decide(tenant, check, 'unknown', new Map())
      delete check.hash
      return
    }
    if (introspection.hash === check.hash) return
    let schema = this.#schemas.get(introspection.hash)
    if (schema === undefined) {
      try {
        schema = buildClientSchema(introspection.data)
      } catch (error) {
        this.#options.log.warn({ tenant: tenant.id, err: error }, 'schema check: Fluent\'s introspection does not build a schema; its schema is unknown')
        this.#decide(tenant, check, 'unknown', new Map())
        return
      }
      if (this.#schemas.size >= 4) this.#schemas.clear()
      this.#schemas.set(introspection.hash, schema)
    }
    const drifted = new Map<string, string>()
    for (const { name, document } of this.#options.documents) {
      const problems = documentProblems(schema, document)
      if (problems.length > 0) drifted.set(name, problems[0] as string)
    }
    check.hash = introspection.hash
    this.#decide(tenant, check, drifted.size === 0 ? 'ok' : 'drift', drifted)
  }

  #decide (tenant: Tenant, check: TenantCheck, state: SchemaState, drifted: Map<string, string>): void {
    const log = this.#options.log
    for (const { name } of this.#options.documents) {
      const was = check.drifted.get(name)
      const now = drifted.get(name)
      if (now !== undefined && was !== now) log.warn({ tenant: tenant.id, route: name, error: now }, `schema drift: Fluent's schema for tenant '${tenant.id}' no longer accepts ${name}; it answers 502 UPSTREAM_SCHEMA_DRIFT`)
      if (now === undefined && was !== undefined) log.info({ tenant: tenant.id, route: name }, `schema drift over: ${name} validates again for tenant '${tenant.id}'`)
      // Unknown is not drift: the gauge reads 0 and requests go through.
      this.#options.onDrift?.(tenant.id, name, now !== undefined)
    }
    if (state !== check.state) log.info({ tenant: tenant.id, schema: state }, `schema check: tenant '${tenant.id}' is ${state}`)
    check.state = state
    check.drifted = drifted
  }

  /** The tenant's introspection: from the Redis cache, else introspected under the tenant's lock (or by itself without Redis). */
  async #obtain (tenant: Tenant): Promise<Introspection | 'pending' | undefined> {
    const redis = this.#options.redis
    if (redis === undefined || !redis.usable()) return await this.#introspect(tenant)
    const cacheKey = `${redis.prefix}schema:${tenant.id}:introspection`
    const lockKey = `${redis.prefix}schema:${tenant.id}:lock`
    let cached: Introspection | undefined
    try {
      cached = parseCached(await redis.client.get(cacheKey))
      if (cached !== undefined) return cached
      // The lock outlives one whole call (and its retries), never a round.
      const lockMs = Math.max(1_000, Math.min(this.#options.intervalMs, 60_000))
      if (!await redis.client.set(lockKey, this.#owner, lockMs, true)) {
        // Another replica introspects: wait a little for its result, else leave the state as it is until the next round.
        const deadline = Date.now() + lockMs
        while (Date.now() < deadline && !this.#stopped) {
          await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS).unref())
          cached = parseCached(await redis.client.get(cacheKey))
          if (cached !== undefined) return cached
        }
        return 'pending'
      }
    } catch (error) {
      // Redis failing mid-check: check alone, as without Redis.
      this.#options.log.debug({ tenant: tenant.id, err: error }, 'schema check: Redis failed; introspecting without sharing')
      return await this.#introspect(tenant)
    }
    try {
      const introspection = await this.#introspect(tenant)
      // Kept for one interval: the replicas validate from it, and the first round after it expires introspects again.
      await redis.client.set(cacheKey, JSON.stringify(introspection), Math.max(1, this.#options.intervalMs), false).catch(() => false)
      return introspection
    } finally {
      await redis.client.eval(RELEASE, lockKey, this.#owner).catch(() => null)
    }
  }

  async #introspect (tenant: Tenant): Promise<Introspection> {
    const data = await this.#options.introspect(tenant, getIntrospectionQuery()) as IntrospectionQuery
    if (data?.__schema === undefined) throw new Error('the introspection answer holds no __schema')
    const text = JSON.stringify(data)
    return { hash: createHash('sha256').update(text).digest('hex'), data }
  }
}

function parseCached (text: string | null): Introspection | undefined {
  if (text === null) return undefined
  try {
    const value = JSON.parse(text) as Partial<Introspection>
    return typeof value.hash === 'string' && value.data?.__schema !== undefined ? value as Introspection : undefined
  } catch {
    return undefined
  }
}
