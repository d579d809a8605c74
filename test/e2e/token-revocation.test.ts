// Two gateways on one Redis meet a revoked token after Redis lost its copy: the retry renews, it never reuses an old token.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator } from '../../src/simulator/types.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'

describe('a token revoked after Redis was flushed', () => {
  const apiKey = newApiKey()
  const prefix = `revoke${randomBytes(4).toString('hex')}:`
  let redis: Redis
  let sim: Simulator
  let one: TestGateway
  let two: TestGateway

  const startReplica = async (): Promise<TestGateway> =>
    await startGateway({ sim, redisUrl: inject('redisUrl'), tenants: [{ id: 'acme', apiKey }], env: { REDIS_KEY_PREFIX: prefix } })

  beforeAll(async () => {
    redis = new Redis(inject('redisUrl'))
    sim = await startSimulator({ accounts: [ACCOUNT] })
    one = await startReplica()
    two = await startReplica()
  })
  afterAll(async () => {
    await one.close()
    await two.close()
    await sim.close()
    redis.disconnect()
  })

  it('answers 20 concurrent calls 200 after one renewal, each retry using a token issued after the revocation', async () => {
    expect((await call(one, '/me')).status).toBe(200)
    const keys = await redis.keys(`${prefix}token:*`)
    expect(keys).toHaveLength(1)
    await redis.del(...keys)
    expect((await call(two, '/me')).status).toBe(200)
    expect(sim.counters.tokenRequests).toBe(2)
    const revokedAt = Date.now()
    sim.revokeTokens()
    const requestsBefore = sim.requests.length

    const answers = await Promise.all(Array.from({ length: 20 }, async () => await call(one, '/me')))

    expect(answers.map((answer) => [answer.status, answer.body?.code])).toEqual(Array(20).fill([200, undefined]))
    expect(sim.counters.tokenRequests).toBe(3)
    const issuedAfter = new Set(sim.issuedTokens.filter((issued) => issued.at >= revokedAt).map((issued) => issued.accessToken))
    const served = sim.requests.slice(requestsBefore).filter((request) => request.status === 200)
    expect(served).toHaveLength(20)
    for (const request of served) expect(issuedAfter.has(String(request.headers.authorization).slice('Bearer '.length))).toBe(true)

    // Replica two's token was revoked too: its next call is refused once, then takes replica one's renewal.
    expect((await call(two, '/me')).status).toBe(200)
    expect(sim.counters.tokenRequests).toBe(3)
  })
})
