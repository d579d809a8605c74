// Tests of caller authentication: each API key selects its own tenant (and Fluent account); public routes need none.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator, SimulatorAccount } from '../../src/simulator/types.js'
import { call, type Answer } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'

const OTHER: SimulatorAccount = { clientId: 'BETA', clientSecret: 'beta-secret', username: 'beta_integration', password: 'beta-password', retailerId: '2' }

describe('API key authentication', () => {
  let sim: Simulator
  let gw: TestGateway
  const acmeKey = newApiKey()
  const betaKey = newApiKey()

  /** GET /me with exactly these headers. */
  async function me (headers: Record<string, string>): Promise<Answer> {
    return await call(gw.url, '/me', { headers })
  }

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT, OTHER] })
    gw = await startGateway({ sim, tenants: [{ id: 'acme', apiKey: acmeKey }, { id: 'beta', apiKey: betaKey, account: OTHER, retailerId: '2' }] })
  })
  afterAll(async () => {
    await gw.close()
    await sim.close()
  })
  beforeEach(() => { sim.reset() })

  it('selects the tenant, and so the Fluent account, by the key', async () => {
    const acme = await me({ authorization: `Bearer ${acmeKey}` })
    const beta = await me({ 'x-api-key': betaKey })

    expect(acme).toMatchObject({ status: 200, body: { username: ACCOUNT.username } })
    expect(beta).toMatchObject({ status: 200, body: { username: OTHER.username, retailerId: '2' } })
    expect(sim.tokenRequests.map((request) => request.username).sort()).toEqual([ACCOUNT.username, OTHER.username])
  })

  it('accepts the Bearer scheme in any case', async () => {
    expect((await me({ authorization: `bearer ${acmeKey}` })).status).toBe(200)
    expect((await me({ authorization: `BEARER ${acmeKey}` })).status).toBe(200)
  })

  it.each([
    ['no key', {}, 'Authorization: Bearer'],
    ['an unknown Bearer key', { authorization: 'Bearer nope' }, 'not known'],
    ['an unknown X-API-Key', { 'x-api-key': 'nope' }, 'not known'],
    ['an empty Bearer', { authorization: 'Bearer ' }, 'Authorization: Bearer'],
    ['a key with no scheme', { authorization: acmeKey }, 'Authorization: Bearer'],
    ['Basic credentials', { authorization: `Basic ${Buffer.from(`u:${acmeKey}`).toString('base64')}` }, 'Authorization: Bearer'],
    ['an empty X-API-Key', { 'x-api-key': '' }, 'Authorization: Bearer'],
    ['a key with extra text', { authorization: `Bearer ${acmeKey} extra` }, 'Authorization: Bearer']
  ])('answers 401 UNAUTHENTICATED with WWW-Authenticate for %s, calling nothing', async (_what, headers, detail) => {
    const answer = await me(headers as Record<string, string>)

    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="fluent-rest-gateway"')
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(answer.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', instance: '/me', detail: expect.stringContaining(detail) })
    expect(JSON.stringify(answer.body)).not.toContain(acmeKey)
    expect(sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
  })

  it('refuses the stored digest used as if it were the key', async () => {
    const digestLine = gw.config.tenants[0]?.apiKeyDigests[0] ?? ''

    expect((await me({ authorization: `Bearer ${digestLine}` })).status).toBe(401)
    expect((await me({ 'x-api-key': `sha256:${digestLine}` })).status).toBe(401)
  })

  it('uses X-API-Key when both headers are sent', async () => {
    expect((await me({ 'x-api-key': betaKey, authorization: `Bearer ${acmeKey}` })).body.username).toBe(OTHER.username)
    expect((await me({ 'x-api-key': 'nope', authorization: `Bearer ${acmeKey}` })).status).toBe(401)
  })

  it.each(['/healthz', '/readyz', '/openapi.json', '/docs/', '/metrics'])('lets %s through without a key', async (path) => {
    expect((await call(gw.url, path)).status).toBe(200)
  })

  it('answers an unknown route with 404, not 401, with or without a key', async () => {
    const without = await call(gw.url, '/no-such-route')
    const withKey = await call(gw.url, '/no-such-route', { apiKey: acmeKey })

    expect([without.status, withKey.status]).toEqual([404, 404])
  })
})
