// Proves no secret reaches the logs: a run of every route, failures included, at debug and at info level.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { call } from '../helpers/call.js'
import { ACCOUNT, startGateway, type TestGateway } from '../helpers/gateway.js'

/** Every route, with successes and each kind of failure; answers the statuses seen, to prove the run happened. */
async function exerciseEverything (gw: TestGateway): Promise<number[]> {
  const statuses: number[] = []
  const run = async (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<void> => {
    statuses.push((await call(gw, path, { method, body, headers })).status)
  }
  gw.sim.faults.issueRefreshToken = true
  await run('GET', '/me')
  await run('POST', '/customers', { email: 'log@example.com', firstName: 'Log', attributes: [{ name: 'secretish', type: 'STRING', value: 'x' }] })
  await run('GET', '/customers?email=log%40example.com&limit=1')
  await run('GET', '/customers/1001')
  await run('GET', '/customers/4242')
  await run('POST', '/products', { ref: 'LOG-1', name: 'Log', gtin: '1', price: { value: 1, currency: 'AUD' } })
  await run('POST', '/graphql', { query: '{ me { id } }' })
  await run('GET', '/healthz')
  await run('GET', '/readyz')
  // Validation and authentication failures, with the key where a careless logger would print it.
  await run('POST', '/customers', { email: 'bad' })
  await run('POST', '/customers', '{"broken', { 'content-type': 'application/json' })
  await run('GET', '/customers?limit=abc')
  await run('GET', '/me', undefined, { authorization: `Bearer ${gw.apiKey}x` })
  await run('GET', '/me', undefined, { authorization: '', 'x-api-key': `${ACCOUNT.password}` })
  await run('GET', '/nowhere')
  // Fluent failures: 5xx, 429, garbage, a revoked token (renewed with the refresh token), then refused credentials.
  gw.sim.faults.graphqlFailures.push({ status: 500 })
  await run('GET', '/me')
  gw.sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '1' } })
  await run('POST', '/customers', { email: 'log2@example.com', firstName: 'Log' })
  gw.sim.faults.graphqlFailures.push({ status: 200, body: 'not json' })
  await run('POST', '/products', { ref: 'LOG-2', name: 'Log', gtin: '1' })
  gw.sim.revokeTokens()
  await run('GET', '/me')
  gw.sim.revokeTokens()
  gw.sim.faults.badCredentials = true
  gw.sim.faults.issueRefreshToken = false
  await run('GET', '/me')
  await run('POST', '/graphql', { query: '{ me { id } }' })
  return statuses
}

/** Every token the gateway held: the bearer tokens Fluent saw, and what the gateway stored in Redis (refresh tokens included). */
async function tokensSeen (gw: TestGateway): Promise<string[]> {
  const tokens = new Set<string>()
  for (const request of gw.sim.requests) {
    const bearer = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))?.[1]
    if (bearer !== undefined) tokens.add(bearer)
  }
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
  try {
    await redis.connect()
    for (const key of await redis.keys(`${gw.config.REDIS_KEY_PREFIX}token:*`)) {
      const stored = JSON.parse(await redis.get(key) ?? '{}') as { accessToken?: string, refreshToken?: string }
      if (stored.accessToken !== undefined) tokens.add(stored.accessToken)
      if (stored.refreshToken !== undefined) tokens.add(stored.refreshToken)
    }
  } finally {
    redis.disconnect()
  }
  return [...tokens]
}

describe.each(['debug', 'info'])('logs at LOG_LEVEL=%s', (level) => {
  let gw: TestGateway
  let statuses: number[]
  let tokens: string[]

  beforeAll(async () => {
    gw = await startGateway({ redisUrl: inject('redisUrl'), env: { LOG_LEVEL: level } })
    // Read tokens before the run ends with revoked ones: the last stored token pair is the refresh-granted one.
    statuses = await exerciseEverything(gw)
    tokens = await tokensSeen(gw)
  })
  afterAll(async () => { await gw.close() })

  it('covered successes and every kind of failure', () => {
    expect(statuses).toEqual(expect.arrayContaining([200, 201, 400, 401, 404, 429, 502]))
    expect(tokens.length).toBeGreaterThanOrEqual(2)
    expect(gw.logs.lines.length).toBeGreaterThan(0)
    expect(gw.logs.text).toContain('request failed')
  })

  it('holds no password, client secret, caller API key or Fluent token', () => {
    const text = gw.logs.text
    expect(text).not.toContain(ACCOUNT.password)
    expect(text).not.toContain(ACCOUNT.clientSecret)
    expect(text).not.toContain(gw.apiKey)
    for (const token of tokens) expect(text).not.toContain(token)
  })

  it('is one JSON object per line, each with a request id when it concerns a request', () => {
    const entries = gw.logs.lines.map((line) => JSON.parse(line) as { reqId?: string, msg?: string })
    const failures = entries.filter((entry) => entry.msg === 'request failed')
    expect(failures.length).toBeGreaterThan(0)
    for (const failure of failures) expect(failure.reqId).toEqual(expect.any(String))
  })
})
