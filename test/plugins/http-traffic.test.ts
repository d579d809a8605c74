// The gateway's own HTTP metrics write exactly what prom-client's Counter and Histogram would for the same requests.
import { Counter, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { HTTP_BUCKETS, HttpTraffic } from '../../src/plugins/metrics.js'

const REQUESTS: Array<[string, string, number, number]> = [
  ['GET', '/me', 200, 0.0031], ['GET', '/me', 200, 0.012], ['GET', '/me', 401, 0.0004], ['POST', '/customers', 201, 0.2],
  ['GET', '/customers/:id', 404, 31], ['GET', 'unmatched', 404, 0.005], ['GET', '/me', 200, 0.005]
]

describe('HttpTraffic', () => {
  it('scrapes as prom-client scrapes the same observations, and resets with the registry', async () => {
    const ours = new Registry()
    const traffic = new HttpTraffic()
    for (const metric of traffic.metrics()) ours.registerMetric(metric)

    const reference = new Registry()
    const labelNames = ['method', 'route', 'status_code'] as const
    const counter = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route pattern and status code', labelNames, registers: [reference] })
    const histogram = new Histogram({ name: 'http_request_duration_seconds', help: 'Time from request to response, by method, route pattern and status code', labelNames, buckets: HTTP_BUCKETS, registers: [reference] })

    for (const [method, route, status, seconds] of REQUESTS) {
      traffic.observe(method, route, status, seconds)
      counter.inc({ method, route, status_code: String(status) })
      histogram.observe({ method, route, status_code: String(status) }, seconds)
    }
    const text = await ours.metrics()
    expect(text).toBe(await reference.metrics())
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/me",status_code="200"} 2')
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/customers/:id",status_code="404"} 1')

    ours.resetMetrics()
    reference.resetMetrics()
    expect(await ours.metrics()).toBe(await reference.metrics())
  })
})
