// The gateway's own histograms write what prom-client's Counter and Histogram would for the same observations, line for
// line (series in another order: their order means nothing to Prometheus).
import { Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { HTTP_BUCKETS, SeriesHistogram, UPSTREAM_BUCKETS } from '../../src/plugins/metrics.js'

const REQUESTS: Array<[string, string, number, number]> = [
  ['GET', '/me', 200, 0.0031], ['GET', '/me', 200, 0.012], ['GET', '/me', 401, 0.0004], ['POST', '/customers', 201, 0.2],
  ['GET', '/customers/:id', 404, 31], ['GET', 'unmatched', 404, 0.005], ['GET', '/me', 200, 0.005]
]
const CALLS: Array<[string, string, number]> = [['Me', 'ok', 0.002], ['Me', 'ok', 0.04], ['CreateCustomer', 'UPSTREAM_TIMEOUT', 15], ['Me', 'CIRCUIT_OPEN', 0]]

/** A scrape with each family's samples in sorted order: Prometheus gives the order of series within a family no meaning. */
function normalised (text: string): string {
  return text.trimEnd().split('\n\n').map((family) => {
    const lines = family.split('\n')
    const header = lines.filter((line) => line.startsWith('#'))
    const samples = lines.filter((line) => !line.startsWith('#'))
    // Within one series the bucket, sum and count lines keep their order; series are sorted by their label values.
    const bySeries = new Map<string, string[]>()
    for (const line of samples) {
      const labels = (/\{(.*)\}/.exec(line)?.[1] ?? '').replace(/le="[^"]*",?/, '')
      bySeries.set(labels, [...(bySeries.get(labels) ?? []), line])
    }
    return [...header, ...[...bySeries.keys()].sort().flatMap((key) => bySeries.get(key) ?? [])].join('\n')
  }).join('\n\n')
}

describe('SeriesHistogram', () => {
  it('scrapes as prom-client scrapes the same observations, with and without its counter, and resets with the registry', async () => {
    const ours = new Registry()
    const http = new SeriesHistogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      counter: { name: 'http_requests_total', help: 'HTTP requests answered' }
    })
    const upstream = new SeriesHistogram({ name: 'fgw_upstream_duration_seconds', help: 'One Fluent call', labelNames: ['operation', 'outcome'], buckets: UPSTREAM_BUCKETS })
    for (const metric of [...http.metrics(), ...upstream.metrics()]) ours.registerMetric(metric)

    const reference = new Registry()
    const labelNames = ['method', 'route', 'status_code'] as const
    const counter = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered', labelNames, registers: [reference] })
    const histogram = new Histogram({ name: 'http_request_duration_seconds', help: 'Time from request to response', labelNames, buckets: HTTP_BUCKETS, registers: [reference] })
    const calls = new Histogram({ name: 'fgw_upstream_duration_seconds', help: 'One Fluent call', labelNames: ['operation', 'outcome'] as const, buckets: UPSTREAM_BUCKETS, registers: [reference] })

    for (const [method, route, status, seconds] of REQUESTS) {
      http.observe([method, route, status], seconds)
      counter.inc({ method, route, status_code: String(status) })
      histogram.observe({ method, route, status_code: String(status) }, seconds)
    }
    for (const [operation, outcome, seconds] of CALLS) {
      upstream.observe([operation, outcome], seconds)
      calls.observe({ operation, outcome }, seconds)
    }
    const text = await ours.metrics()
    expect(normalised(text)).toBe(normalised(await reference.metrics()))
    expect(text.split('\n').length).toBe((await reference.metrics()).split('\n').length)
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/me",status_code="200"} 2')
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/customers/:id",status_code="404"} 1')
    expect(text).toContain('fgw_upstream_duration_seconds_count{operation="Me",outcome="ok"} 2')

    ours.resetMetrics()
    reference.resetMetrics()
    expect(await ours.metrics()).toBe(await reference.metrics())
  })
})
