// Idempotency-Key in one gateway: refusals not stored, the header checked, TTL, metrics, logs, Redis outage, opt-in shapes.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { startSimulator } from '../../src/simulator/index.js'
import { call, expectProblem } from '../helpers/call.js'
import { ACCOUNT, LogCapture, newApiKey, startGateway, testConfig, type TestGateway } from '../helpers/gateway.js'
import { startRedisServer } from '../helpers/redis-server.js'

const customer = (email: string, firstName = 'Ida'): Record<string, unknown> => ({ email, firstName })

describe('Idempotency-Key in one gateway', () => {
  let gw: TestGateway
  let redis: Redis
  const prefix = `idem${randomBytes(4).toString('hex')}:`

  beforeAll(async () => {
    gw = await startGateway({ redisUrl: inject('redisUrl'), env: { REDIS_KEY_PREFIX: prefix, IDEMPOTENCY_TTL_S: '60' } })
    redis = new Redis(inject('redisUrl'))
  })
  afterAll(async () => {
    redis.disconnect()
    await gw.close()
  })
  beforeEach(() => { gw.sim.reset() })

  const post = async (body: unknown, key?: string): ReturnType<typeof call> =>
    await call(gw, '/customers', { body, headers: key === undefined ? {} : { 'idempotency-key': key } })

  it('stores no 400: the same key then runs with a valid body', async () => {
    const key = randomUUID()
    expectProblem(await post({ email: 'not-an-email', firstName: 'X' }, key), 400, 'VALIDATION_FAILED')
    expect(await redis.keys(`${prefix}idem:*`)).toEqual([])
    const created = await post(customer('after400@example.com'), key)
    expect(created.status).toBe(201)
    expect(created.headers.get('idempotent-replayed')).toBeNull()
  })

  it('refuses a key that is not 1-255 visible ASCII characters with a 400 naming the header, before Fluent', async () => {
    for (const key of ['has space', 'ü-key', 'x'.repeat(256)]) {
      const answer = await post(customer('badkey@example.com'), key)
      expectProblem(answer, 400, 'VALIDATION_FAILED')
      expect(answer.body.errors[0].path).toBe('/headers/idempotency-key')
    }
    expect(gw.sim.counters.graphqlRequests).toBe(0)
  })

  it('keeps a record for IDEMPOTENCY_TTL_S under a hashed key of tenant, method, route and key', async () => {
    const key = randomUUID()
    expect((await post(customer('ttl@example.com'), key)).status).toBe(201)
    const scope = createHash('sha256').update(`POST /customers ${key}`).digest('hex')
    const ttl = await redis.pttl(`${prefix}idem:acme:${scope}`)
    expect(ttl).toBeGreaterThan(55_000)
    expect(ttl).toBeLessThanOrEqual(60_000)
    // The stored value carries the answer (no encryption key in this gateway).
    expect(await redis.get(`${prefix}idem:acme:${scope}`)).toMatch(/^D:\{"fingerprint":"[0-9a-f]{64}","answer":\{"status":201/)
  })

  it('counts replays, in-flight refusals and reuse refusals in /metrics, and logs only the key hash', async () => {
    const key = `log-me-not-${randomUUID()}`
    expect((await post(customer('metrics@example.com'), key)).status).toBe(201)
    expect((await post(customer('metrics@example.com'), key)).headers.get('idempotent-replayed')).toBe('true')
    expectProblem(await post(customer('metrics@example.com', 'Other'), key), 422, 'IDEMPOTENCY_KEY_REUSED')
    const metrics = (await call(gw.url, '/metrics')).text
    expect(metrics).toMatch(/fgw_idempotency_total\{outcome="stored"\} [1-9]/)
    expect(metrics).toMatch(/fgw_idempotency_total\{outcome="replayed"\} [1-9]/)
    expect(metrics).toMatch(/fgw_idempotency_total\{outcome="reused"\} [1-9]/)
    expect(gw.logs.text).not.toContain(key)
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 16)
    expect(gw.logs.text).toContain(hash)
  })

  it('documents the header, the 409 and 422 problems and Idempotent-Replayed on each route that takes a key', async () => {
    const document = gw.app.swagger() as { paths: Record<string, Record<string, any>> }
    for (const [path, method] of [['/customers', 'post'], ['/products', 'post']] as const) {
      const operation = document.paths[path]![method]
      const parameter = operation.parameters.find((candidate: { name: string }) => candidate.name === 'idempotency-key')
      expect(parameter).toMatchObject({ in: 'header', required: false, description: expect.stringContaining('IDEMPOTENCY_KEY_REUSED') })
      expect(parameter.example ?? parameter.examples).toBeDefined()
      expect(operation.responses['409'].description).toContain('IDEMPOTENCY_IN_FLIGHT')
      expect(operation.responses['409'].headers['retry-after']).toBeDefined()
      expect(operation.responses['422'].description).toContain('IDEMPOTENCY_KEY_REUSED')
      expect(operation.responses['201'].headers['idempotent-replayed']).toBeDefined()
    }
    expect(document.paths['/customers']!.get.parameters.some((candidate: { name: string }) => candidate.name === 'idempotency-key')).toBe(false)
  })
})

describe('Idempotency-Key while Redis is down', () => {
  it('still replays on the same replica, never waiting on Redis, with /readyz degraded', async () => {
    const server = await startRedisServer()
    const gw = await startGateway({ redisUrl: server.url })
    try {
      const before = randomUUID()
      const first = await call(gw, '/customers', { body: customer('before-outage@example.com'), headers: { 'idempotency-key': before } })
      expect(first.status).toBe(201)
      await server.stop()
      for (let tries = 0; (await call(gw.url, '/readyz')).body.status !== 'degraded'; tries++) {
        expect(tries).toBeLessThan(50)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const calls = gw.sim.counters.graphqlRequests
      const replay = await call(gw, '/customers', { body: customer('before-outage@example.com'), headers: { 'idempotency-key': before } })
      expect(replay.text).toBe(first.text)
      expect(replay.headers.get('idempotent-replayed')).toBe('true')

      const during = randomUUID()
      const created = await call(gw, '/customers', { body: customer('during-outage@example.com'), headers: { 'idempotency-key': during } })
      expect(created.status).toBe(201)
      const again = await call(gw, '/customers', { body: customer('during-outage@example.com'), headers: { 'idempotency-key': during } })
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(again.text).toBe(created.text)
      expect(again.ms).toBeLessThan(gw.config.REDIS_COMMAND_TIMEOUT_MS)
      expect(gw.sim.counters.graphqlRequests).toBe(calls + 1)
    } finally {
      await gw.close()
      await server.stop()
    }
  })
})

describe('Idempotency-Key after a timeout', () => {
  it('answers a retry after a 504 with the product the timed-out attempt created', async () => {
    const gw = await startGateway({ redisUrl: inject('redisUrl'), env: { FLUENT_TIMEOUT_MS: '400' } })
    try {
      const key = randomUUID()
      const body = { ref: `SKU-T-${key}`, name: 'Slow', gtin: '504' }
      gw.sim.faults.graphqlDelayMs = 700
      const first = await call(gw, '/products', { body, headers: { 'idempotency-key': key } })
      expectProblem(first, 504, 'UPSTREAM_TIMEOUT')
      // The simulator still commits the create once its delay is over, as Fluent would.
      await new Promise((resolve) => setTimeout(resolve, 500))
      gw.sim.faults.graphqlDelayMs = 0
      const retry = await call(gw, '/products', { body, headers: { 'idempotency-key': key } })
      expect(retry.status).toBe(201)
      expect(retry.body).toMatchObject({ ref: body.ref, name: 'Slow', gtin: '504' })
      expect(retry.headers.get('idempotent-replayed')).toBeNull()
      expect(gw.sim.requests.filter((request) => request.operationName === 'StandardProduct')).toHaveLength(1)
    } finally {
      await gw.close()
    }
  })
})

describe('routes opting in', () => {
  it('refuses a required route without a key, and lets a streamed route give its own fingerprint', async () => {
    const sim = await startSimulator({ accounts: [ACCOUNT] })
    const apiKey = newApiKey()
    const app = await buildApp(testConfig(sim.url, [{ id: 'acme', apiKey }], { REDIS_URL: inject('redisUrl') }), { logStream: new LogCapture() })
    let runs = 0
    await app.register(async (scope) => {
      scope.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })
      scope.post('/test/adjust', { config: { idempotency: { required: true } } }, async (_request, reply) => await reply.code(202).send({ run: ++runs }))
      scope.put('/test/load', { config: { idempotency: { fingerprint: 'route' } } }, async (request, reply) => {
        const hash = createHash('sha256').update(request.body as string).digest('hex')
        if (await request.idempotency?.fingerprint(hash) === 'replayed') return reply
        return await reply.code(202).send({ run: ++runs })
      })
    })
    const send = async (method: 'POST' | 'PUT', url: string, payload: string, headers: Record<string, string> = {}): Promise<{ status: number, body: any, replayed: unknown }> => {
      const answer = await app.inject({ method, url, payload, headers: { authorization: `Bearer ${apiKey}`, 'content-type': method === 'PUT' ? 'text/csv' : 'application/json', ...headers } })
      return { status: answer.statusCode, body: answer.json(), replayed: answer.headers['idempotent-replayed'] }
    }
    try {
      const missing = await send('POST', '/test/adjust', '{}')
      expect(missing.status).toBe(400)
      expect(missing.body.code).toBe('IDEMPOTENCY_KEY_REQUIRED')
      expect(runs).toBe(0)
      expect((await send('POST', '/test/adjust', '{}', { 'idempotency-key': 'adj-1' })).status).toBe(202)

      const key = randomUUID()
      const csv = 'productRef,locationRef,quantity\nSKU-1,LOC-1,5\n'
      expect(await send('PUT', '/test/load', csv, { 'idempotency-key': key })).toMatchObject({ status: 202, body: { run: 2 } })
      expect(await send('PUT', '/test/load', csv, { 'idempotency-key': key })).toMatchObject({ status: 202, body: { run: 2 }, replayed: 'true' })
      expect((await send('PUT', '/test/load', `${csv}SKU-2,LOC-1,1\n`, { 'idempotency-key': key })).body.code).toBe('IDEMPOTENCY_KEY_REUSED')
      expect(runs).toBe(2)
      const document = app.swagger() as { paths: Record<string, Record<string, any>> }
      expect(document.paths['/test/adjust']!.post.parameters.find((candidate: { name: string }) => candidate.name === 'idempotency-key').required).toBe(true)
    } finally {
      await app.close()
      await sim.close()
    }
  })
})
