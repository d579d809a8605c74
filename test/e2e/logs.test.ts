// Proves no secret reaches the logs: a run of every route, failures included, token renewals by the refresh grant (one
// succeeding, one refused), at debug and at info level.
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { CachedToken } from '../../src/fluent/token-store.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'

const LEVELS = ['debug', 'info'] as const
type Level = typeof LEVELS[number]

/**
 * Lifetime of the tokens issued during the run. The gateway renews a token in its last 20% (2 s here), with the refresh
 * grant while Redis still holds it: short enough to wait for, the window wide enough to hit on a busy machine.
 */
const TOKEN_TTL_SECONDS = 10

interface Run {
  gw: TestGateway
  /** The key of the second tenant, whose refresh token someone else spends before its renewal. */
  spentKey: string
  statuses: number[]
  /** Grant types Fluent saw for each tenant's renewal past its renewal time. */
  renewals: { acme: string[], spent: string[] }
}

/** The token the gateway stores in Redis for a tenant (plain JSON: these gateways have no TOKEN_ENCRYPTION_KEY). */
async function storedToken (redis: Redis, gw: TestGateway, tenant: string): Promise<CachedToken> {
  const keys = await redis.keys(`${gw.config.REDIS_KEY_PREFIX}token:${tenant}:*`)
  expect(keys).toHaveLength(1)
  const stored = JSON.parse(await redis.get(keys[0] ?? '') ?? 'null') as CachedToken | null
  if (stored === null) throw new Error(`no token stored for tenant ${tenant}`)
  return stored
}

/** Every route, with successes and each kind of failure, and both outcomes of a refresh-grant renewal. */
async function exerciseEverything (level: Level): Promise<Run> {
  const spentKey = newApiKey()
  const acmeKey = newApiKey()
  const gw = await startGateway({
    redisUrl: inject('redisUrl'),
    // Patient Redis: a command timing out on a busy machine would mark Redis down, and a renewal without Redis uses
    // the password grant, not the refresh token this run is about.
    env: { LOG_LEVEL: level, REDIS_COMMAND_TIMEOUT_MS: '2000' },
    tenants: [{ id: 'acme', apiKey: acmeKey }, { id: 'spent', apiKey: spentKey }]
  })
  const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
  try {
    await redis.connect()
    const statuses: number[] = []
    const run = async (method: string, path: string, body?: unknown, headers?: Record<string, string>, apiKey?: string): Promise<void> => {
      statuses.push((await call(gw, path, { method, body, headers, ...(apiKey === undefined ? {} : { apiKey }) })).status)
    }
    gw.sim.faults.issueRefreshToken = true
    gw.sim.faults.tokenTtlSeconds = TOKEN_TTL_SECONDS
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
    // Fluent failures: 5xx, 429, garbage, then a revoked token (the 401 drops it, so a password grant replaces it).
    gw.sim.faults.graphqlFailures.push({ status: 500 })
    await run('GET', '/me')
    gw.sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '1' } })
    await run('POST', '/customers', { email: 'log2@example.com', firstName: 'Log' })
    gw.sim.faults.graphqlFailures.push({ status: 200, body: 'not json' })
    await run('POST', '/products', { ref: 'LOG-2', name: 'Log', gtin: '1' })
    gw.sim.revokeTokens()
    await run('GET', '/me')

    // Renewal past the renewal time, while Redis still holds the token and its refresh token: acme's refresh grant
    // works; the second tenant's refresh token was spent by someone else first, so its refresh grant is refused
    // (logged with the error) and the password grant follows.
    await run('GET', '/me', undefined, undefined, spentKey)
    const acme = await storedToken(redis, gw, 'acme')
    const spent = await storedToken(redis, gw, 'spent')
    expect(acme.refreshToken).toEqual(expect.any(String))
    expect(spent.refreshToken).toEqual(expect.any(String))
    const spending = await fetch(`${gw.sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: spent.refreshToken ?? '', client_id: ACCOUNT.clientId, client_secret: ACCOUNT.clientSecret })
    })
    expect(spending.status).toBe(200)
    await sleep(Math.max(0, Math.max(acme.renewAt, spent.renewAt) + 100 - Date.now()))
    const renewals = { acme: [] as string[], spent: [] as string[] }
    for (const [tenant, apiKey] of [['acme', acmeKey], ['spent', spentKey]] as const) {
      const before = gw.sim.tokenRequests.length
      await run('GET', '/me', undefined, undefined, apiKey)
      renewals[tenant] = gw.sim.tokenRequests.slice(before).map((record) => record.grantType)
    }

    // Refused credentials last: every call fails from here on.
    gw.sim.revokeTokens()
    gw.sim.faults.badCredentials = true
    gw.sim.faults.issueRefreshToken = false
    await run('GET', '/me')
    await run('POST', '/graphql', { query: '{ me { id } }' })
    return { gw, spentKey, statuses, renewals }
  } catch (error) {
    await gw.close()
    throw error
  } finally {
    redis.disconnect()
  }
}

const runs = new Map<Level, Run>()

// Both levels at once: each waits for its tokens' renewal time.
beforeAll(async () => {
  const settled = await Promise.allSettled(LEVELS.map(async (level) => { runs.set(level, await exerciseEverything(level)) }))
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason
}, 60_000)
afterAll(async () => {
  await Promise.all([...runs.values()].map(async ({ gw }) => { await gw.close() }))
})

describe.each(LEVELS)('logs at LOG_LEVEL=%s', (level) => {
  const current = (): Run => {
    const run = runs.get(level)
    if (run === undefined) throw new Error(`no run at ${level}`)
    return run
  }

  /** Every token Fluent issued in the run, access and refresh, whether or not the gateway ended up holding it. */
  const issued = (): string[] => current().gw.sim.issuedTokens.flatMap((record) => [record.accessToken, ...(record.refreshToken === undefined ? [] : [record.refreshToken])])

  it('covered successes, every kind of failure, and a refresh-grant renewal that worked and one that was refused', () => {
    const { gw, statuses, renewals } = current()
    expect(statuses).toEqual(expect.arrayContaining([200, 201, 400, 401, 404, 429, 502]))
    expect(renewals).toEqual({ acme: ['refresh_token'], spent: ['refresh_token', 'password'] })
    // Six pairs, each with a refresh token: acme's first, acme's after the revocation, the second tenant's first, the
    // spending of its refresh token, acme's refresh-grant renewal and the second tenant's password-grant fallback.
    expect(gw.sim.issuedTokens.map((record) => record.grantType)).toEqual(['password', 'password', 'password', 'refresh_token', 'refresh_token', 'password'])
    for (const record of gw.sim.issuedTokens) expect(record.refreshToken).toEqual(expect.any(String))
    // Every bearer token Fluent saw is one of those the leak check looks for.
    const bearers = gw.sim.requests.map((request) => /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))?.[1])
    expect(bearers.length).toBeGreaterThan(0)
    for (const bearer of bearers) expect(issued()).toContain(bearer)
    expect(gw.logs.lines.length).toBeGreaterThan(0)
    expect(gw.logs.text).toContain('request failed')
  })

  it('logged the refused refresh grant once, with its error, for the tenant whose refresh token was spent', () => {
    const entries = current().gw.logs.lines.map((line) => JSON.parse(line) as { msg?: string, tenant?: string, err?: { message?: string } })
    const refused = entries.filter((entry) => entry.msg === 'refresh grant failed; falling back to the password grant')
    expect(refused).toHaveLength(1)
    expect(refused[0]).toMatchObject({ tenant: 'spent', err: { message: expect.stringContaining('refused the credentials') } })
  })

  it('holds no password, client secret, caller API key, or Fluent access or refresh token', () => {
    const { gw, spentKey } = current()
    const text = gw.logs.text
    expect(text).not.toContain(ACCOUNT.password)
    expect(text).not.toContain(ACCOUNT.clientSecret)
    expect(text).not.toContain(gw.apiKey)
    expect(text).not.toContain(spentKey)
    const tokens = issued()
    expect(tokens).toHaveLength(12)
    for (const token of tokens) expect(text).not.toContain(token)
  })

  it('is one JSON object per line, each with a request id when it concerns a request', () => {
    const entries = current().gw.logs.lines.map((line) => JSON.parse(line) as { reqId?: string, msg?: string })
    const failures = entries.filter((entry) => entry.msg === 'request failed')
    expect(failures.length).toBeGreaterThan(0)
    for (const failure of failures) expect(failure.reqId).toEqual(expect.any(String))
  })
})
