// Prometheus metrics at GET /metrics: HTTP traffic by route, Fluent calls, tokens, Redis, rate limiting, circuits.
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric, type MetricValue } from 'prom-client'
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
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30]

/** POST /graphql passes the caller's operationName through: cap the label's values so a caller cannot flood the series. */
const MAX_OPERATION_NAMES = 50
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/** One series of the HTTP metrics: requests answered and their durations, by le bucket (not cumulative). */
interface HttpSeries {
  labels: { method: string, route: string, status_code: string }
  count: number
  sum: number
  buckets: Float64Array
}

/**
 * http_requests_total and http_request_duration_seconds, counted together per series. prom-client's own counter and
 * histogram validate and hash their label object on every observation (about 2% of GET /me's CPU); here a request
 * finds its series through three map lookups, and the samples are written out, in prom-client's format, at scrape.
 */
export class HttpTraffic {
  readonly #series = new Map<string, Map<string, Map<number, HttpSeries>>>()

  observe (method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.#series.get(route)
    if (byMethod === undefined) this.#series.set(route, byMethod = new Map())
    let byStatus = byMethod.get(method)
    if (byStatus === undefined) byMethod.set(method, byStatus = new Map())
    let series = byStatus.get(status)
    if (series === undefined) {
      series = { labels: { method, route, status_code: String(status) }, count: 0, sum: 0, buckets: new Float64Array(HTTP_BUCKETS.length) }
      byStatus.set(status, series)
    }
    series.count++
    series.sum += seconds
    const bucket = HTTP_BUCKETS.findIndex((bound) => seconds <= bound)
    if (bucket !== -1) series.buckets[bucket] = (series.buckets[bucket] ?? 0) + 1
  }

  * #all (): Generator<HttpSeries> {
    for (const byMethod of this.#series.values()) for (const byStatus of byMethod.values()) yield * byStatus.values()
  }

  /** Both metrics, for a prom-client registry (it reads name, help, type and get()). */
  metrics (): Metric[] {
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => Array<MetricValue<string>>): Metric =>
      ({ name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset: () => { this.#series.clear() } }) as unknown as Metric
    return [
      metric('http_requests_total', 'HTTP requests answered, by method, route pattern and status code', 'counter',
        () => [...this.#all()].map((series) => ({ labels: series.labels, value: series.count }))),
      metric('http_request_duration_seconds', 'Time from request to response, by method, route pattern and status code', 'histogram',
        () => [...this.#all()].flatMap((series) => {
          let cumulative = 0
          return [
            ...HTTP_BUCKETS.map((le, index) => {
              cumulative += series.buckets[index] ?? 0
              return { metricName: 'http_request_duration_seconds_bucket', labels: { le, ...series.labels }, value: cumulative }
            }),
            { metricName: 'http_request_duration_seconds_bucket', labels: { le: '+Inf', ...series.labels }, value: series.count },
            { metricName: 'http_request_duration_seconds_sum', labels: series.labels, value: series.sum },
            { metricName: 'http_request_duration_seconds_count', labels: series.labels, value: series.count }
          ]
        }))
    ]
  }
}

export default fp(async function metricsPlugin (app) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const httpTraffic = new HttpTraffic()
  for (const metric of httpTraffic.metrics()) registry.registerMetric(metric)
  const upstreamDuration = new Histogram({
    name: 'fgw_upstream_duration_seconds',
    help: 'Duration of one Fluent GraphQL call (token, retries and back-off included), by operation and outcome (ok or the error code)',
    labelNames: ['operation', 'outcome'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [registry]
  })
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
      upstream: (operation, outcome, ms) => { upstreamDuration.observe({ operation: operationLabel(operation), outcome }, ms / 1000) },
      tokenFetch: (outcome) => { tokenFetches.inc({ outcome }) },
      tokenCache: (layer) => { tokenLookups.inc({ layer }) },
      circuit: (origin, state) => { circuits.set(origin, state) }
    },
    rateLimited: () => { rateLimited.inc() },
    schemaDrift: (tenant, route, drifted) => { schemaDrift.set({ tenant, route }, drifted ? 1 : 0) }
  } satisfies GatewayMetrics)

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern (/customers/:id), never the raw URL: one series per route, whatever ids callers send.
    httpTraffic.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
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
