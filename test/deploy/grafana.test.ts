// deploy/grafana dashboard: parses, every panel queries metrics the gateway really exports, on labels they really have, with valid PromQL.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parser } from '@prometheus-io/lezer-promql'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { ACCOUNT, newApiKey, testConfig } from '../helpers/gateway.js'
import { REPO } from './compose-file.js'

interface ExportedMetric { type: string, labels: Set<string>, samples: number }

/**
 * The metric families in a Prometheus exposition (from `# TYPE` lines), each with the label names its samples carry.
 * A histogram's _bucket, _count and _sum samples count towards the histogram (their `le` is left out: see metricOf).
 */
function parseExposition (text: string): Map<string, ExportedMetric> {
  const families = new Map<string, ExportedMetric>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line)
    if (type !== null) families.set(type[1] ?? '', { type: type[2] ?? '', labels: new Set(), samples: 0 })
  }
  for (const line of text.split('\n')) {
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line)
    if (sample === null) continue
    const series = sample[1] ?? ''
    const family = families.get(series) ?? families.get(series.replace(/_(bucket|count|sum)$/, ''))
    if (family === undefined) continue
    family.samples++
    for (const label of (sample[2] ?? '').matchAll(/(\w+)="(?:[^"\\]|\\.)*"/g)) {
      if (label[1] !== 'le' || !series.endsWith('_bucket')) family.labels.add(label[1] ?? '')
    }
  }
  return families
}

/** prom-client's collectDefaultMetrics: exported, but no business of this dashboard. */
const DEFAULT_METRIC = /^(process|nodejs)_/
/** Labels Prometheus adds to every scraped series; the dashboard's variables filter on them. */
const TARGET_LABELS = ['job', 'instance']

/** What GET /metrics answers once requests have given every labelled metric a series; filled in beforeAll. */
let exported = new Map<string, ExportedMetric>()
/** The gateway's own metric families (the default process ones left out): the dashboard should show each. */
let gatewayMetrics: string[] = []

interface Target { expr?: string, refId?: string, legendFormat?: string, datasource?: { type?: string, uid?: string } }
interface Panel { id: number, type: string, title: string, gridPos: { x: number, y: number, w: number, h: number }, targets?: Target[], datasource?: { uid?: string }, panels?: Panel[] }
interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  panels: Panel[]
  templating: { list: Array<{ name: string, type: string, query?: unknown }> }
}

const dashboard = JSON.parse(readFileSync(join(REPO, 'deploy/grafana/fluent-rest-gateway.json'), 'utf8')) as Dashboard
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])])
const queryPanels = panels.filter((panel) => panel.type !== 'row')

/** Grafana's variables replaced by PromQL-legal stand-ins, as Grafana would before sending the query. */
function substituteVariables (expr: string): string {
  return expr.replace(/\$__rate_interval|\$__interval|\$__range/g, '5m').replace(/\$\{?(\w+)\}?/g, '.*')
}

interface ParsedQuery {
  errors: string[]
  /** Every series name selected, with the labels it is matched on. */
  selectors: Array<{ metric: string, matchers: string[] }>
  /** Every `by (...)` list, with the series names aggregated inside it. */
  groupings: Array<{ labels: string[], metrics: string[] }>
}

function parsePromql (expr: string): ParsedQuery {
  const text = substituteVariables(expr)
  const result: ParsedQuery = { errors: [], selectors: [], groupings: [] }
  const cursor = parser.parse(text).cursor()
  const selectors: Array<{ metric: string, matchers: string[], from: number, to: number }> = []
  const aggregations: Array<{ labels: string[], from: number, to: number }> = []
  do {
    const node = cursor.node
    if (node.type.isError) result.errors.push(`syntax error at ${node.from} in ${text}`)
    if (node.name === 'VectorSelector') {
      const metric = node.getChild('Identifier')
      const matchers = node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher')
        .map((matcher) => { const name = matcher.getChild('LabelName'); return name === null ? '' : text.slice(name.from, name.to) }) ?? []
      selectors.push({ metric: metric === null ? '' : text.slice(metric.from, metric.to), matchers, from: node.from, to: node.to })
    }
    if (node.name === 'AggregateExpr') {
      const grouping = node.getChild('AggregateModifier')?.getChild('GroupingLabels')
      const labels = grouping?.getChildren('LabelName').map((label) => text.slice(label.from, label.to)) ?? []
      aggregations.push({ labels, from: node.from, to: node.to })
    }
  } while (cursor.next())
  result.selectors = selectors.map(({ metric, matchers }) => ({ metric, matchers }))
  result.groupings = aggregations.map(({ labels, from, to }) => ({ labels, metrics: selectors.filter((selector) => selector.from >= from && selector.to <= to).map((selector) => selector.metric) }))
  return result
}

/** The exported metric a series name belongs to (a histogram's _bucket, _count, _sum), or undefined when the gateway exports none. */
function metricOf (series: string): { name: string, labels: string[] } | undefined {
  const direct = exported.get(series)
  if (direct !== undefined && direct.type !== 'histogram' && direct.type !== 'summary') return { name: series, labels: [...direct.labels] }
  const part = /^(.+)_(bucket|count|sum)$/.exec(series)
  const name = part?.[1] ?? ''
  const family = exported.get(name)
  if (family?.type !== 'histogram') return undefined
  return { name, labels: part?.[2] === 'bucket' ? [...family.labels, 'le'] : [...family.labels] }
}

describe('deploy/grafana/fluent-rest-gateway.json', () => {
  let sim: Simulator | undefined
  let app: FastifyInstance | undefined

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT] })
    const apiKey = newApiKey()
    // With Redis and a webhook key, so the per-tenant outbox gauge has a series too; the schema check on, so
    // fgw_schema_drift gets its series once the boot check has run.
    app = await buildApp(testConfig(sim.url, [{ id: 'acme', apiKey, webhooks: { publicKey: sim.webhookPublicKey } }], { LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '0', MAX_EVENT_LOOP_DELAY_MS: '0', REDIS_URL: inject('redisUrl'), SCHEMA_CHECK_INTERVAL_MS: '3600000' }))
    // Fluent calls (a token fetched, then found in the cache) and an unmatched route: every labelled metric gets a series.
    const headers = { authorization: `Bearer ${apiKey}` }
    for (let i = 0; i < 2; i++) expect((await app.inject({ url: '/me', headers })).statusCode).toBe(200)
    expect((await app.inject({ url: '/nowhere/42', headers })).statusCode).toBe(404)
    let scrape = await app.inject({ url: '/metrics' })
    for (let wait = 0; wait < 100 && !scrape.body.includes('fgw_schema_drift{'); wait++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      scrape = await app.inject({ url: '/metrics' })
    }
    expect(scrape.statusCode).toBe(200)
    exported = parseExposition(scrape.body)
    gatewayMetrics = [...exported.keys()].filter((name) => !DEFAULT_METRIC.test(name))
  })
  afterAll(async () => {
    await app?.close()
    await sim?.close()
  })

  it('reads the gateway\'s metrics from GET /metrics, each with a series so its labels are known', () => {
    expect(gatewayMetrics).toEqual(expect.arrayContaining(['http_requests_total', 'http_request_duration_seconds', 'fgw_upstream_duration_seconds']))
    for (const name of gatewayMetrics) expect(exported.get(name)?.samples, `${name} has no series: make a request above that gives it one`).toBeGreaterThan(0)
    expect([...exported.get('http_requests_total')?.labels ?? []].sort()).toEqual(['method', 'route', 'status_code'])
  })

  it('is a Grafana dashboard with a uid, a title, schemaVersion 39 and unique panel ids on a 24-column grid', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/)
    expect(dashboard.title).not.toBe('')
    expect(dashboard.schemaVersion).toBe(39)
    const ids = panels.map((panel) => panel.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const panel of panels) expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24)
    expect(queryPanels.length).toBeGreaterThanOrEqual(8)
  })

  it('queries one of the gateway\'s own metrics in every panel, through the dashboard\'s data source variable', () => {
    for (const panel of queryPanels) {
      const targets = panel.targets ?? []
      expect(targets.length, panel.title).toBeGreaterThan(0)
      const series = targets.flatMap((target) => parsePromql(target.expr ?? '').selectors.map((selector) => metricOf(selector.metric)?.name))
      expect(series.some((name) => name !== undefined && gatewayMetrics.includes(name)), `${panel.title} queries a gateway metric`).toBe(true)
      for (const target of targets) {
        expect(target.datasource?.uid, `${panel.title} ${target.refId ?? ''}`).toBe('${datasource}') // eslint-disable-line no-template-curly-in-string
      }
      const refIds = targets.map((target) => target.refId)
      expect(new Set(refIds).size, panel.title).toBe(refIds.length)
    }
  })

  it('writes PromQL that parses, names only exported metrics, and groups and matches on labels those metrics have', () => {
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        const where = `${panel.title} ${target.refId ?? ''}: ${target.expr ?? ''}`
        const query = parsePromql(target.expr ?? '')
        expect(query.errors, where).toEqual([])
        for (const selector of query.selectors) {
          const metric = metricOf(selector.metric)
          expect(metric, `${where}: ${selector.metric} is not exported at /metrics`).toBeDefined()
          expect(selector.matchers.filter((label) => !(metric?.labels ?? []).includes(label) && !TARGET_LABELS.includes(label)), where).toEqual([])
          // Every selector follows the Job and Replica variables.
          expect(selector.matchers, where).toEqual(expect.arrayContaining(TARGET_LABELS))
        }
        for (const grouping of query.groupings) {
          for (const series of grouping.metrics) {
            const labels = [...(metricOf(series)?.labels ?? []), ...TARGET_LABELS]
            expect(grouping.labels.filter((label) => !labels.includes(label)), `${where}: grouping of ${series}`).toEqual([])
          }
        }
        const legendLabels = [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((match) => match[1])
        const grouped = query.groupings.flatMap((grouping) => grouping.labels)
        expect(legendLabels.filter((label) => !grouped.includes(label ?? '') && !TARGET_LABELS.includes(label ?? '')), `${where}: legend`).toEqual([])
      }
    }
  })

  it('shows every metric the gateway exports (the default process ones aside) somewhere', () => {
    const used = new Set(queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => parsePromql(target.expr ?? '').selectors.map((selector) => metricOf(selector.metric)?.name))))
    expect(gatewayMetrics.filter((name) => !used.has(name))).toEqual([])
  })

  it('covers traffic, errors, latency p50/p99, Fluent latency by operation and outcome, tokens, Redis, rate limiting and circuits', () => {
    const exprs = queryPanels.map((panel) => ({ title: panel.title, expr: (panel.targets ?? []).map((target) => target.expr ?? '').join('\n') }))
    const has = (pattern: RegExp): boolean => exprs.some((panel) => pattern.test(panel.expr))
    expect(has(/sum by \(route\) \(rate\(http_requests_total/)).toBe(true)
    expect(has(/sum by \(route, status_code\) \(rate\(http_requests_total\{[^}]*status_code=~"\[45\]\.\."/)).toBe(true)
    expect(has(/histogram_quantile\(0\.5, sum by \(le, route\) \(rate\(http_request_duration_seconds_bucket/)).toBe(true)
    expect(has(/histogram_quantile\(0\.99, sum by \(le, route\) \(rate\(http_request_duration_seconds_bucket/)).toBe(true)
    expect(has(/histogram_quantile\(0\.99, sum by \(le, operation, outcome\) \(rate\(fgw_upstream_duration_seconds_bucket/)).toBe(true)
    expect(has(/sum by \(outcome\) \(increase\(fgw_token_fetches_total/)).toBe(true)
    expect(has(/sum by \(layer\) \(rate\(fgw_token_cache_lookups_total/)).toBe(true)
    expect(has(/fgw_redis_state\{[^}]*state="up"/)).toBe(true)
    expect(has(/fgw_redis_state\{[^}]*state="down"/)).toBe(true)
    expect(has(/rate\(fgw_rate_limited_total/)).toBe(true)
    expect(has(/fgw_upstream_circuits_open\{/)).toBe(true)
  })

  it('defines the variables its queries use: a Prometheus data source, and job and instance from a gateway metric', () => {
    const variables = dashboard.templating.list
    expect(variables.find((variable) => variable.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
    for (const name of TARGET_LABELS) {
      const variable = variables.find((candidate) => candidate.name === name)
      expect(variable?.type).toBe('query')
      const query = JSON.stringify(variable?.query ?? '')
      const source = /label_values\((\w+)/.exec(query)?.[1] ?? ''
      expect(gatewayMetrics, `${name} variable: ${query}`).toContain(source)
    }
    const used = new Set(queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => [...(target.expr ?? '').matchAll(/\$\{?(\w+)\}?/g)].map((match) => match[1] ?? ''))))
    const defined = new Set([...variables.map((variable) => variable.name), '__rate_interval', '__interval', '__range'])
    expect([...used].filter((name) => !defined.has(name))).toEqual([])
  })

  it('rejects broken PromQL, metrics the gateway does not export and labels it does not set, so the checks above have teeth', () => {
    expect(parsePromql('sum by (route (rate(http_requests_total[5m]))').errors).not.toEqual([])
    for (const guess of ['fgw_http_requests_total', 'fgw_token_cache_total', 'fgw_redis_up', 'http_requests']) expect(metricOf(guess), guess).toBeUndefined()
    expect(metricOf('http_requests_total')?.labels).not.toContain('status')
    expect(metricOf('fgw_upstream_duration_seconds_bucket')?.labels).toContain('le')
    expect(metricOf('fgw_upstream_duration_seconds_count')?.labels).not.toContain('le')
    expect(metricOf('fgw_upstream_duration_seconds')).toBeUndefined()
    expect(parseExposition('# TYPE a_seconds histogram\na_seconds_bucket{le="1",op="x"} 1\na_seconds_count{op="x"} 1\n# TYPE b gauge\nb 0\n'))
      .toEqual(new Map([['a_seconds', { type: 'histogram', labels: new Set(['op']), samples: 2 }], ['b', { type: 'gauge', labels: new Set(), samples: 1 }]]))
  })
})
