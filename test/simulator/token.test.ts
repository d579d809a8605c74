// Tests of the simulator's OAuth token endpoint: password and refresh grants, refusals, faults and records.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { demoForm, graphql, postToken } from './http.js'

describe('simulator token endpoint', () => {
  let sim: Simulator

  beforeAll(async () => {
    sim = await startSimulator({
      accounts: [
        { clientId: 'DEMO', clientSecret: 'demo-secret', username: 'demo_integration', password: 'demo-password', retailerId: '1' },
        { clientId: 'OTHER', clientSecret: 'other-secret', username: 'other_user', password: 'other-password' }
      ]
    })
  })
  afterAll(async () => { await sim.close() })
  beforeEach(() => { sim.reset() })

  it('issues an opaque bearer token with Fluent extra keys for a valid password grant', async () => {
    const answer = await postToken(sim, demoForm)

    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(answer.body).toEqual({
      access_token: expect.stringMatching(/^[0-9a-f]{64}$/),
      token_type: 'bearer',
      expires_in: 86400,
      scope: 'api',
      Retailer_id: '1',
      FirstName: 'Demo'
    })
    const me = await graphql(sim, answer.body.access_token, '{ me { username } }')
    expect(me.body).toEqual({ data: { me: { username: 'demo_integration' } } })
  })

  it('issues a different token on every grant', async () => {
    const first = await postToken(sim, demoForm)
    const second = await postToken(sim, demoForm)
    expect(first.body.access_token).not.toBe(second.body.access_token)
  })

  it('omits Retailer_id for an account without a retailer', async () => {
    const answer = await postToken(sim, {
      ...demoForm, client_id: 'OTHER', client_secret: 'other-secret', username: 'other_user', password: 'other-password'
    })
    expect(answer.status).toBe(200)
    expect(answer.body).not.toHaveProperty('Retailer_id')
  })

  it.each([
    ['a wrong password', { password: 'nope' }],
    ['an unknown user', { username: 'ghost' }],
    ['an unknown client', { client_id: 'GHOST' }],
    ['a wrong client secret', { client_secret: 'nope' }],
    ["another account's client with this user", { client_id: 'OTHER', client_secret: 'other-secret' }]
  ])('answers 400 invalid_grant for %s', async (_name, change) => {
    const answer = await postToken(sim, { ...demoForm, ...change })
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({ error: 'invalid_grant', error_description: 'Bad credentials' })
  })

  it('answers 400 invalid_grant to valid credentials while the badCredentials fault is on', async () => {
    sim.faults.badCredentials = true
    const answer = await postToken(sim, demoForm)
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_grant')
  })

  it('refuses credentials in the query string even when the body is valid', async () => {
    const answer = await postToken(sim, demoForm, '?username=demo_integration&password=demo-password')
    expect(answer.status).toBe(400)
    expect(answer.body).toEqual({ error: 'invalid_request', error_description: 'credentials must be in the body' })
  })

  it('refuses a JSON body', async () => {
    const response = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(demoForm)
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('answers 400 unsupported_grant_type for an unknown grant', async () => {
    const answer = await postToken(sim, { ...demoForm, grant_type: 'client_credentials' })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('unsupported_grant_type')
  })

  it('answers 400 invalid_scope for a scope other than api', async () => {
    const answer = await postToken(sim, { ...demoForm, scope: 'admin' })
    expect(answer.status).toBe(400)
    expect(answer.body.error).toBe('invalid_scope')
  })

  it('gives expires_in from the tokenTtlSeconds fault', async () => {
    sim.faults.tokenTtlSeconds = 120
    const answer = await postToken(sim, demoForm)
    expect(answer.body.expires_in).toBe(120)
  })

  it('waits tokenDelayMs before answering', async () => {
    sim.faults.tokenDelayMs = 300
    const started = Date.now()
    const answer = await postToken(sim, demoForm)
    expect(answer.status).toBe(200)
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
  })

  it('counts and records every token request without passwords or secrets', async () => {
    await postToken(sim, demoForm)
    await postToken(sim, { ...demoForm, password: 'wrong-password' })

    expect(sim.counters.tokenRequests).toBe(2)
    expect(sim.tokenRequests).toEqual([
      { grantType: 'password', username: 'demo_integration', clientId: 'DEMO', at: expect.any(Number) },
      { grantType: 'password', username: 'demo_integration', clientId: 'DEMO', at: expect.any(Number) }
    ])
    const recorded = JSON.stringify(sim.tokenRequests)
    for (const secret of ['demo-password', 'wrong-password', 'demo-secret']) expect(recorded).not.toContain(secret)
  })

  describe('refresh tokens', () => {
    it('are not issued unless the issueRefreshToken fault is on', async () => {
      const answer = await postToken(sim, demoForm)
      expect(answer.body).not.toHaveProperty('refresh_token')
    })

    it('work exactly once and give a working access token', async () => {
      sim.faults.issueRefreshToken = true
      const first = await postToken(sim, demoForm)
      const refreshToken = first.body.refresh_token as string
      expect(refreshToken).toMatch(/^[0-9a-f]{64}$/)
      const refreshForm = { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'DEMO', client_secret: 'demo-secret' }

      const refreshed = await postToken(sim, refreshForm)
      expect(refreshed.status).toBe(200)
      expect(refreshed.body.access_token).not.toBe(first.body.access_token)
      expect(refreshed.body.refresh_token).not.toBe(refreshToken)
      const me = await graphql(sim, refreshed.body.access_token, '{ me { username } }')
      expect(me.body.data.me.username).toBe('demo_integration')

      const reused = await postToken(sim, refreshForm)
      expect(reused.status).toBe(400)
      expect(reused.body).toEqual({ error: 'invalid_grant', error_description: 'Bad credentials' })
      expect(sim.tokenRequests.map((record) => record.grantType)).toEqual(['password', 'refresh_token', 'refresh_token'])
      expect(sim.tokenRequests[1]?.username).toBe('demo_integration')
    })

    it('are refused with another client secret and stay usable afterwards', async () => {
      sim.faults.issueRefreshToken = true
      const first = await postToken(sim, demoForm)
      const refreshForm = { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'DEMO', client_secret: 'demo-secret' }

      const wrong = await postToken(sim, { ...refreshForm, client_secret: 'nope' })
      expect(wrong.status).toBe(400)
      expect(wrong.body.error).toBe('invalid_grant')
      const right = await postToken(sim, refreshForm)
      expect(right.status).toBe(200)
    })

    it('are recorded with their access tokens in issuedTokens, refused grants issuing nothing, until reset', async () => {
      sim.faults.issueRefreshToken = true
      const first = await postToken(sim, demoForm)
      await postToken(sim, { ...demoForm, password: 'wrong-password' })
      const refreshForm = { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'DEMO', client_secret: 'demo-secret' }
      const refreshed = await postToken(sim, refreshForm)
      expect((await postToken(sim, refreshForm)).status).toBe(400)
      sim.faults.issueRefreshToken = false
      const plain = await postToken(sim, demoForm)

      expect(sim.issuedTokens).toEqual([
        { grantType: 'password', accessToken: first.body.access_token, refreshToken: first.body.refresh_token, at: expect.any(Number) },
        { grantType: 'refresh_token', accessToken: refreshed.body.access_token, refreshToken: refreshed.body.refresh_token, at: expect.any(Number) },
        { grantType: 'password', accessToken: plain.body.access_token, at: expect.any(Number) }
      ])
      sim.reset()
      expect(sim.issuedTokens).toEqual([])
    })

    it('keep working after revokeTokens, which only kills access tokens', async () => {
      sim.faults.issueRefreshToken = true
      const first = await postToken(sim, demoForm)
      sim.revokeTokens()

      const revoked = await graphql(sim, first.body.access_token, '{ me { id } }')
      expect(revoked.status).toBe(401)
      const refreshed = await postToken(sim, {
        grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: 'DEMO', client_secret: 'demo-secret'
      })
      expect(refreshed.status).toBe(200)
    })
  })
})
