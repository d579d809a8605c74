// Prometheus metrics at GET /metrics: HTTP traffic by route, Fluent calls, tokens, Redis, rate limiting, circuits.
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
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
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30]
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30]

/** POST /graphql passes the caller's operationName through: cap the label's values so a caller cannot flood the series. */
const MAX_OPERATION_NAMES = 50
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

export default fp(async function metricsPlugin (app) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry]
  })
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry]
  })
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
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }
    httpRequests.inc(labels)
    httpDuration.observe(labels, reply.elapsedTime / 1000)
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
