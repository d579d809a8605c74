// deploy/grafana dashboard: parses, every panel queries the gateway's metrics with valid PromQL, and the names match one list.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parser } from '@prometheus-io/lezer-promql'
import { describe, expect, it } from 'vitest'
import { REPO } from './compose-file.js'

/**
 * The metrics the dashboard assumes, with their labels; `histogram` ones are queried as _bucket, _count and _sum.
 * The one place to update when the metric names change.
 */
const METRICS: Record<string, { labels: string[], histogram?: true }> = {
  fgw_http_requests_total: { labels: ['route', 'method', 'status'] },
  fgw_http_request_duration_seconds: { labels: ['route', 'method', 'status'], histogram: true },
  fgw_upstream_duration_seconds: { labels: ['operation', 'outcome'], histogram: true },
  fgw_token_fetches_total: { labels: ['outcome'] },
  fgw_token_cache_total: { labels: ['layer'] },
  fgw_redis_up: { labels: [] },
  fgw_rate_limited_total: { labels: [] }
}
/** Labels Prometheus adds to every scraped series; the dashboard's variables filter on them. */
const TARGET_LABELS = ['job', 'instance']

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

/** The metric a series name belongs to (a histogram's _bucket, _count, _sum), or undefined when unknown. */
function metricOf (series: string): { name: string, labels: string[] } | undefined {
  for (const [name, metric] of Object.entries(METRICS)) {
    if (series === name && metric.histogram !== true) return { name, labels: metric.labels }
    if (metric.histogram === true && [`${name}_bucket`, `${name}_count`, `${name}_sum`].includes(series)) {
      return { name, labels: series.endsWith('_bucket') ? [...metric.labels, 'le'] : metric.labels }
    }
  }
  return undefined
}

describe('deploy/grafana/fluent-rest-gateway.json', () => {
  it('is a Grafana dashboard with a uid, a title, schemaVersion 39 and unique panel ids on a 24-column grid', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/)
    expect(dashboard.title).not.toBe('')
    expect(dashboard.schemaVersion).toBe(39)
    const ids = panels.map((panel) => panel.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const panel of panels) expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24)
    expect(queryPanels.length).toBeGreaterThanOrEqual(8)
  })

  it('queries an fgw_ metric from the list in every panel, through the dashboard\'s data source variable', () => {
    for (const panel of queryPanels) {
      const targets = panel.targets ?? []
      expect(targets.length, panel.title).toBeGreaterThan(0)
      const series = targets.flatMap((target) => parsePromql(target.expr ?? '').selectors.map((selector) => selector.metric))
      expect(series.some((name) => name.startsWith('fgw_') && metricOf(name) !== undefined), `${panel.title} queries a listed fgw_ metric`).toBe(true)
      for (const target of targets) {
        expect(target.datasource?.uid, `${panel.title} ${target.refId ?? ''}`).toBe('${datasource}') // eslint-disable-line no-template-curly-in-string
      }
      const refIds = targets.map((target) => target.refId)
      expect(new Set(refIds).size, panel.title).toBe(refIds.length)
    }
  })

  it('writes PromQL that parses, names only listed metrics, and groups and matches on labels those metrics have', () => {
    for (const panel of queryPanels) {
      for (const target of panel.targets ?? []) {
        const where = `${panel.title} ${target.refId ?? ''}: ${target.expr ?? ''}`
        const query = parsePromql(target.expr ?? '')
        expect(query.errors, where).toEqual([])
        for (const selector of query.selectors) {
          const metric = metricOf(selector.metric)
          expect(metric, `${where}: ${selector.metric} is not in METRICS`).toBeDefined()
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

  it('shows every listed metric somewhere', () => {
    const used = new Set(queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => parsePromql(target.expr ?? '').selectors.map((selector) => metricOf(selector.metric)?.name))))
    expect(Object.keys(METRICS).filter((name) => !used.has(name))).toEqual([])
  })

  it('covers traffic, errors, latency p50/p99, Fluent latency by operation and outcome, tokens, Redis and rate limiting', () => {
    const exprs = queryPanels.map((panel) => ({ title: panel.title, expr: (panel.targets ?? []).map((target) => target.expr ?? '').join('\n') }))
    const has = (pattern: RegExp): boolean => exprs.some((panel) => pattern.test(panel.expr))
    expect(has(/sum by \(route\) \(rate\(fgw_http_requests_total/)).toBe(true)
    expect(has(/sum by \(route, status\) \(rate\(fgw_http_requests_total\{[^}]*status=~"\[45\]\.\."/)).toBe(true)
    expect(has(/histogram_quantile\(0\.5, sum by \(le, route\) \(rate\(fgw_http_request_duration_seconds_bucket/)).toBe(true)
    expect(has(/histogram_quantile\(0\.99, sum by \(le, route\) \(rate\(fgw_http_request_duration_seconds_bucket/)).toBe(true)
    expect(has(/histogram_quantile\(0\.99, sum by \(le, operation, outcome\) \(rate\(fgw_upstream_duration_seconds_bucket/)).toBe(true)
    expect(has(/sum by \(outcome\) \(increase\(fgw_token_fetches_total/)).toBe(true)
    expect(has(/sum by \(layer\) \(rate\(fgw_token_cache_total/)).toBe(true)
    expect(has(/fgw_redis_up/)).toBe(true)
    expect(has(/rate\(fgw_rate_limited_total/)).toBe(true)
  })

  it('defines the variables its queries use: a Prometheus data source, job and instance', () => {
    const variables = dashboard.templating.list
    expect(variables.find((variable) => variable.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' })
    for (const name of TARGET_LABELS) expect(variables.find((variable) => variable.name === name)?.type).toBe('query')
    const used = new Set(queryPanels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => [...(target.expr ?? '').matchAll(/\$\{?(\w+)\}?/g)].map((match) => match[1] ?? ''))))
    const defined = new Set([...variables.map((variable) => variable.name), '__rate_interval', '__interval', '__range'])
    expect([...used].filter((name) => !defined.has(name))).toEqual([])
  })

  it('rejects broken PromQL and unknown metrics, so the checks above have teeth', () => {
    expect(parsePromql('sum by (route (rate(fgw_http_requests_total[5m]))').errors).not.toEqual([])
    expect(metricOf('fgw_http_requests')).toBeUndefined()
    expect(metricOf('fgw_upstream_duration_seconds_bucket')?.labels).toContain('le')
    expect(metricOf('fgw_upstream_duration_seconds')).toBeUndefined()
  })
})
