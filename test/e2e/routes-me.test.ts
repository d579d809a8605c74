// End-to-end tests of GET /me over real HTTP: the tenant's Fluent user, one shared token, the request id sent to Fluent.
import { describe, expect, inject, it } from 'vitest'
import { call } from '../helpers/call.js'
import { ACCOUNT, startGateway, useGateway } from '../helpers/gateway.js'

describe('GET /me', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }))

  it('answers the Fluent user of the tenant\'s account, in REST names', async () => {
    const answer = await call(gw, '/me')

    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
    expect(answer.body).toEqual({
      id: '1',
      ref: ACCOUNT.username,
      username: ACCOUNT.username,
      type: 'ADMIN',
      status: 'ACTIVE',
      title: null,
      firstName: 'Demo',
      lastName: 'Integration',
      email: `${ACCOUNT.username}@example.com`,
      phone: null,
      timezone: 'UTC',
      retailerId: '1'
    })
    expect(gw.sim.requests).toHaveLength(1)
    expect(gw.sim.requests[0]).toMatchObject({ operationName: 'Me', status: 200 })
  })

  it('accepts the key as X-API-Key too', async () => {
    const answer = await call(gw, '/me', { apiKey: null, headers: { 'x-api-key': gw.apiKey } })

    expect(answer.status).toBe(200)
    expect(gw.sim.counters.graphqlRequests).toBe(1)
  })

  it('fetches one token and reuses it for later calls', async () => {
    // A gateway of its own (own simulator, fresh key prefix), so it starts with no token in memory or in Redis.
    const cold = await startGateway({ redisUrl: inject('redisUrl') })
    try {
      for (let i = 0; i < 5; i++) {
        expect((await call(cold, '/me')).status).toBe(200)
      }
      expect(cold.sim.counters.tokenRequests).toBe(1)
      expect(cold.sim.counters.graphqlRequests).toBe(5)
      const bearer = new Set(cold.sim.requests.map((request) => request.headers.authorization))
      expect(bearer.size).toBe(1)
    } finally {
      await cold.close()
    }
  })

  it('sends Fluent the caller\'s request id and never the caller\'s API key or cookies', async () => {
    const answer = await call(gw, '/me', { headers: { 'x-api-key': gw.apiKey, cookie: 'session=abc', 'x-request-id': 'erp-42.a:b_c' } })

    expect(answer.status).toBe(200)
    expect(answer.headers.get('x-request-id')).toBe('erp-42.a:b_c')
    const headers = gw.sim.requests[0]?.headers
    expect(headers?.['x-request-id']).toBe('erp-42.a:b_c')
    expect(headers?.authorization).not.toContain(gw.apiKey)
    expect(headers?.['x-api-key']).toBeUndefined()
    expect(headers?.cookie).toBeUndefined()
  })
})
