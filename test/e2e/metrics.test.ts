// Observability: Prometheus counts at /metrics match the traffic, one access-log line per request, request ids end to end.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, metricValue } from '../helpers/call.js'
import { ACCOUNT, startGateway, useGateway, type TestGateway } from '../helpers/gateway.js'

describe('/metrics', () => {
  let sim: Simulator
  const gateways: TestGateway[] = []
  const start = async (options: Parameters<typeof startGateway>[0] = {}): Promise<TestGateway> => {
    const gw = await startGateway({ sim, ...options })
    gateways.push(gw)
    return gw
  }
  const scrape = async (gw: TestGateway): Promise<string> => (await call(gw.url, '/metrics')).text

  beforeAll(async () => { sim = await startSimulator({ accounts: [ACCOUNT] }) })
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map(async (gw) => { await gw.close() }))
    sim.reset()
  })
  afterAll(async () => { await sim.close() })

  it('is public Prometheus text, with process metrics', async () => {
    const gw = await start({ redisUrl: inject('redisUrl') })

    const answer = await call(gw.url, '/metrics')

    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(answer.text).toContain('# TYPE http_requests_total counter')
    expect(answer.text).toContain('# TYPE process_cpu_user_seconds_total counter')
  })

  it('counts requests by route pattern and status, and Fluent calls and token lookups behind them', async () => {
    const gw = await start({ redisUrl: inject('redisUrl') })

    for (let i = 0; i < 3; i++) expect((await call(gw, '/me')).status).toBe(200)
    expect((await call(gw.url, '/me', { apiKey: 'wrong' })).status).toBe(401)
    await call(gw, '/customers/1')
    await call(gw, '/customers/2')
    expect((await call(gw, '/nowhere/42')).status).toBe(404)
    const text = await scrape(gw)

    expect(metricValue(text, 'http_requests_total', { method: 'GET', route: '/me', status_code: '200' })).toBe(3)
    expect(metricValue(text, 'http_request_duration_seconds_count', { method: 'GET', route: '/me', status_code: '200' })).toBe(3)
    expect(metricValue(text, 'http_requests_total', { method: 'GET', route: '/me', status_code: '401' })).toBe(1)
    expect(metricValue(text, 'http_requests_total', { method: 'GET', route: '/nowhere/42' })).toBe(0)
    expect(metricValue(text, 'http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1)
    // One series for /customers/:id whatever ids callers send.
    expect(text).not.toMatch(/route="\/customers\/[12]"/)
    const byId = text.split('\n').filter((line) => line.startsWith('http_requests_total{') && line.includes('route="/customers/:id"'))
    expect(byId.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)).toBe(2)

    expect(metricValue(text, 'fgw_upstream_duration_seconds_count', { operation: 'Me', outcome: 'ok' })).toBe(3)
    expect(metricValue(text, 'fgw_upstream_duration_seconds_count', { operation: 'CustomerById' })).toBe(2)
    expect(sim.requests).toHaveLength(5)
    expect(metricValue(text, 'fgw_token_fetches_total', { outcome: 'ok' })).toBe(1)
    expect(sim.counters.tokenRequests).toBe(1)
    expect(metricValue(text, 'fgw_token_cache_lookups_total', { layer: 'miss' })).toBe(1)
    expect(metricValue(text, 'fgw_token_cache_lookups_total', { layer: 'l1' })).toBe(4)
    expect(metricValue(text, 'fgw_redis_state', { state: 'up' })).toBe(1)
    expect(metricValue(text, 'fgw_redis_state', { state: 'down' })).toBe(0)
    expect(metricValue(text, 'fgw_upstream_circuits_open')).toBe(0)
  })

  it('counts failed Fluent calls by their error code and refused token requests', async () => {
    const gw = await start({ env: { TOKEN_FAILURE_BACKOFF_MS: '0' } })
    sim.faults.graphqlFailures.push({ status: 500 })
    await call(gw, '/customers', { body: { email: 'metrics@example.com', firstName: 'M' } })
    // The cached token stops working and the account's password is refused: the renewal fails.
    sim.reset()
    sim.revokeTokens()
    sim.faults.badCredentials = true
    await call(gw, '/me')
    const text = await scrape(gw)

    expect(metricValue(text, 'fgw_upstream_duration_seconds_count', { operation: 'CreateCustomer', outcome: 'UPSTREAM_UNAVAILABLE' })).toBe(1)
    expect(metricValue(text, 'fgw_upstream_duration_seconds_count', { operation: 'Me', outcome: 'UPSTREAM_AUTH_FAILED' })).toBe(1)
    expect(metricValue(text, 'fgw_token_fetches_total', { outcome: 'auth_failed' })).toBe(1)
    expect(metricValue(text, 'fgw_redis_state', { state: 'disabled' })).toBe(1)
  })

  it('keeps each app\'s counts apart when two run in one process', async () => {
    const a = await start({ redisUrl: inject('redisUrl') })
    const b = await start({ redisUrl: inject('redisUrl') })

    for (let i = 0; i < 2; i++) await call(a, '/me')
    await call(b, '/me')

    expect(metricValue(await scrape(a), 'http_requests_total', { route: '/me', status_code: '200' })).toBe(2)
    expect(metricValue(await scrape(b), 'http_requests_total', { route: '/me', status_code: '200' })).toBe(1)
  })

  it('caps the operation names callers choose through POST /graphql at 50 series', async () => {
    const gw = await start({ env: { RATE_LIMIT_MAX: '0' } })

    for (let i = 0; i < 55; i++) {
      const answer = await call(gw, '/graphql', { body: { query: `query Caller${i} { me { id } }`, operationName: `Caller${i}` } })
      expect(answer.status).toBe(200)
    }
    const text = await scrape(gw)

    const operations = new Set([...text.matchAll(/fgw_upstream_duration_seconds_count\{operation="([^"]*)"/g)].map((match) => match[1]))
    expect(operations.size).toBe(51)
    expect(metricValue(text, 'fgw_upstream_duration_seconds_count', { operation: 'other', outcome: 'ok' })).toBe(5)
  })
})

describe('the access log', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }), { reset: false })

  const entries = (): Array<Record<string, unknown>> => gw.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>)

  it('writes one line per request with tenant, route, status, total and upstream time, under the caller\'s request id', async () => {
    const answer = await call(gw, '/customers/1?x=secret@example.com', { headers: { 'x-request-id': 'caller-id-42' } })

    expect(answer.headers.get('x-request-id')).toBe('caller-id-42')
    expect(gw.sim.requests.at(-1)?.headers['x-request-id']).toBe('caller-id-42')
    const lines = entries().filter((entry) => entry.reqId === 'caller-id-42')
    expect(lines.filter((entry) => entry.msg === 'request completed')).toEqual([expect.objectContaining({
      level: 30,
      tenant: 'acme',
      method: 'GET',
      route: '/customers/:id',
      status: answer.status,
      ms: expect.any(Number),
      upstreamMs: expect.any(Number)
    })])
    const [line] = lines.filter((entry) => entry.msg === 'request completed')
    expect(line?.upstreamMs).toBeGreaterThan(0)
    expect(line?.ms).toBeGreaterThanOrEqual(line?.upstreamMs as number)
    expect(lines.some((entry) => entry.msg === 'incoming request')).toBe(false)
    expect(JSON.stringify(lines)).not.toContain('secret@example.com')
    expect(gw.logs.text).not.toContain(gw.apiKey)
  })

  it('logs refused requests without a tenant, and health probes only at debug', async () => {
    await call(gw.url, '/me', { apiKey: 'not-a-key', headers: { 'x-request-id': 'refused-1' } })
    await call(gw.url, '/healthz', { headers: { 'x-request-id': 'probe-1' } })

    const refused = entries().filter((entry) => entry.reqId === 'refused-1' && entry.msg === 'request completed')
    expect(refused).toEqual([expect.objectContaining({ route: '/me', status: 401, upstreamMs: 0 })])
    expect(refused[0]?.tenant).toBeUndefined()
    expect(entries().filter((entry) => entry.reqId === 'probe-1')).toEqual([])
    expect(gw.logs.text).not.toContain('not-a-key')
  })
})
