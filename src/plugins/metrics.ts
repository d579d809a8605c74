// Prometheus metrics at GET /metrics: HTTP traffic by route, Fluent calls, tokens, Redis, rate limiting, circuits.
import fp from 'fastify-plugin'
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric, type MetricValue } from 'prom-client'
import type { CircuitState } from '../fluent/circuit.js'
import type { FluentObserver } from '../fluent/observer.js'
import type { TransportObserver } from '../fluent/transport.js'

export interface GatewayMetrics {
  /** This app's own registry: several apps in one process (tests) never share counters. */
  registry: Registry
  /** Handed to the Fluent client, token provider and transport. */
  fluentObserver: FluentObserver & TransportObserver
  /** A caller was refused by the gateway's own rate limit. */
  rateLimited: () => void
  /** The schema check decided whether a document still validates against a tenant's live schema. */
  schemaDrift: (tenant: string, route: string, drifted: boolean) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
}

/** Seconds; from a cached token answer (ms) to the longest deadline a call may have. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30]
export const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30]

/** POST /graphql passes the caller's operationName through: cap the label's values so a caller cannot flood the series. */
const MAX_OPERATION_NAMES = 50
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/** One series of a SeriesHistogram: observations and their sum, by le bucket (not cumulative). */
interface Series {
  labels: Record<string, string>
  count: number
  sum: number
  buckets: Float64Array
}

type Nested = Map<string | number, Nested | Series>

/**
 * A histogram, and optionally a counter of the same observations, counted per series without prom-client's
 * per-observation work (it validates and hashes the label object on every call: about 2% of GET /me's CPU for the
 * three observations a request made). An observation finds its series through one map lookup per label; the samples
 * are written out in prom-client's format at scrape (test/plugins/series-histogram.test.ts compares them line for line).
 */
export class SeriesHistogram {
  readonly #root: Nested = new Map()
  readonly #name: string
  readonly #help: string
  readonly #labelNames: readonly string[]
  readonly #buckets: readonly number[]
  readonly #counter: { name: string, help: string } | undefined

  constructor (options: { name: string, help: string, labelNames: readonly string[], buckets: readonly number[], counter?: { name: string, help: string } }) {
    this.#name = options.name
    this.#help = options.help
    this.#labelNames = options.labelNames
    this.#buckets = options.buckets
    this.#counter = options.counter
  }

  /** `values` in the order of labelNames; numbers (a status code) are written as their decimal text. */
  observe (values: ReadonlyArray<string | number>, value: number): void {
    let map = this.#root
    const last = values.length - 1
    for (let index = 0; index < last; index++) {
      let next = map.get(values[index] ?? '') as Nested | undefined
      if (next === undefined) map.set(values[index] ?? '', next = new Map())
      map = next
    }
    let series = map.get(values[last] ?? '') as Series | undefined
    if (series === undefined) {
      const labels: Record<string, string> = {}
      this.#labelNames.forEach((name, index) => { labels[name] = String(values[index]) })
      series = { labels, count: 0, sum: 0, buckets: new Float64Array(this.#buckets.length) }
      map.set(values[last] ?? '', series)
    }
    series.count++
    series.sum += value
    // A loop, not findIndex: no closure per observation.
    for (let index = 0; index < this.#buckets.length; index++) {
      if (value <= (this.#buckets[index] ?? Infinity)) {
        series.buckets[index] = (series.buckets[index] ?? 0) + 1
        break
      }
    }
  }

  * #all (map: Nested = this.#root): Generator<Series> {
    for (const entry of map.values()) {
      if (entry instanceof Map) yield * this.#all(entry)
      else yield entry
    }
  }

  /** The histogram (and the counter), for a prom-client registry: it reads name, help, type and get(). */
  metrics (): Metric[] {
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => Array<MetricValue<string>>): Metric =>
      ({ name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset: () => { this.#root.clear() } }) as unknown as Metric
    const bucket = `${this.#name}_bucket`
    const histogram = metric(this.#name, this.#help, 'histogram', () => [...this.#all()].flatMap((series) => {
      let cumulative = 0
      return [
        ...this.#buckets.map((le, index) => {
          cumulative += series.buckets[index] ?? 0
          return { metricName: bucket, labels: { le, ...series.labels }, value: cumulative }
        }),
        { metricName: bucket, labels: { le: '+Inf', ...series.labels }, value: series.count },
        { metricName: `${this.#name}_sum`, labels: series.labels, value: series.sum },
        { metricName: `${this.#name}_count`, labels: series.labels, value: series.count }
      ]
    }))
    if (this.#counter === undefined) return [histogram]
    const counter = metric(this.#counter.name, this.#counter.help, 'counter', () => [...this.#all()].map((series) => ({ labels: series.labels, value: series.count })))
    return [counter, histogram]
  }
}

export default fp(async function metricsPlugin (app) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const httpTraffic = new SeriesHistogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_BUCKETS,
    counter: { name: 'http_requests_total', help: 'HTTP requests answered, by method, route pattern and status code' }
  })
  const upstreamDuration = new SeriesHistogram({
    name: 'fgw_upstream_duration_seconds',
    help: 'Duration of one Fluent GraphQL call (token, retries and back-off included), by operation and outcome (ok or the error code)',
    labelNames: ['operation', 'outcome'],
    buckets: UPSTREAM_BUCKETS
  })
  for (const metric of [...httpTraffic.metrics(), ...upstreamDuration.metrics()]) registry.registerMetric(metric)
  const tokenFetches = new Counter({
    name: 'fgw_token_fetches_total',
    help: 'Token requests sent to Fluent, by outcome (ok, auth_failed, error)',
    labelNames: ['outcome'] as const,
    registers: [registry]
  })
  const tokenLookups = new Counter({
    name: 'fgw_token_cache_lookups_total',
    help: 'Where token lookups were answered from: l1 (process), l2 (Redis), miss (fetched from Fluent)',
    labelNames: ['layer'] as const,
    registers: [registry]
  })
  const rateLimited = new Counter({
    name: 'fgw_rate_limited_total',
    help: 'Requests refused with 429 by the gateway\'s own per-key rate limit (the access log names the tenant)',
    registers: [registry]
  })
  // Neither tenants nor Fluent origins are labels: /metrics is public, and both name the gateway's customers.
  const circuits = new Map<string, CircuitState>()
  new Gauge({ // eslint-disable-line no-new
    name: 'fgw_upstream_circuits_open',
    help: 'Fluent origins whose circuit breaker is open or probing (their calls fail fast)',
    registers: [registry],
    collect () {
      let open = 0
      for (const state of circuits.values()) if (state !== 'closed') open++
      this.set(open)
    }
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'fgw_redis_state',
    help: 'Redis state: 1 on the current one of up, down, disabled',
    labelNames: ['state'] as const,
    registers: [registry],
    collect () {
      const current = app.redisState()
      for (const state of ['up', 'down', 'disabled'] as const) this.set({ state }, state === current ? 1 : 0)
    }
  })

  // Tenant ids are labels here, as the schema check's contract asks: one series per tenant and document, no more.
  const schemaDrift = new Gauge({
    name: 'fgw_schema_drift',
    help: "1 while a route's or operation's GraphQL document no longer validates against the tenant's live Fluent schema (it answers 502), else 0",
    labelNames: ['tenant', 'route'] as const,
    registers: [registry]
  })

  const operations = new Set<string>()
  const operationLabel = (name: string): string => {
    if (operations.has(name)) return name
    if (!OPERATION_NAME.test(name)) return 'invalid'
    if (operations.size >= MAX_OPERATION_NAMES) return 'other'
    operations.add(name)
    return name
  }

  app.decorate('metrics', {
    registry,
    fluentObserver: {
      upstream: (operation, outcome, ms) => { upstreamDuration.observe([operationLabel(operation), outcome], ms / 1000) },
      tokenFetch: (outcome) => { tokenFetches.inc({ outcome }) },
      tokenCache: (layer) => { tokenLookups.inc({ layer }) },
      circuit: (origin, state) => { circuits.set(origin, state) }
    },
    rateLimited: () => { rateLimited.inc() },
    schemaDrift: (tenant, route, drifted) => { schemaDrift.set({ tenant, route }, drifted ? 1 : 0) }
  } satisfies GatewayMetrics)

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern (/customers/:id), never the raw URL: one series per route, whatever ids callers send.
    httpTraffic.observe([request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode], reply.elapsedTime / 1000)
    done()
  })

  app.get('/metrics', {
    config: { public: true },
    schema: { hide: true }
  }, async (_request, reply) => {
    const text = await registry.metrics()
    return await reply.type(registry.contentType).send(text)
  })
}, { name: 'metrics', dependencies: ['redis'] })
