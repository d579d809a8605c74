// End-to-end tests of failures: bad input never reaches Fluent, Fluent's failures map to the problem table, a revoked token is renewed once.
import underPressure from '@fastify/under-pressure'
import Fastify from 'fastify'
import { describe, expect, inject, it } from 'vitest'
import errorsPlugin from '../../src/plugins/errors.js'
import { call, expectProblem, type Answer, type CallOptions } from '../helpers/call.js'
import { ACCOUNT, useGateway, type TestGateway } from '../helpers/gateway.js'

/** A 5xx body says nothing of the gateway's internals, the tenant's secrets or where Fluent lives. */
function expectNoLeak (gw: TestGateway, answer: Answer): void {
  const simHost = new URL(gw.sim.url).host
  for (const secret of [ACCOUNT.password, ACCOUNT.clientSecret, gw.apiKey, simHost, '127.0.0.1']) {
    expect(answer.text).not.toContain(secret)
  }
  expect(answer.text).not.toMatch(/\bat \S+ \(|node:internal|\.ts:\d+|stack/i)
  for (const request of gw.sim.requests) {
    const bearer = /^Bearer (\S+)$/.exec(String(request.headers.authorization ?? ''))?.[1]
    if (bearer !== undefined) expect(answer.text).not.toContain(bearer)
  }
}

const customer = { email: 'jane@example.com', firstName: 'Jane' }

describe('bad input is refused before Fluent is called', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }))

  const cases: Array<[string, string, CallOptions, number, string, Array<{ path: string, message: string | RegExp }> | undefined]> = [
    ['a missing required field', '/customers', { body: { email: 'a@example.com' } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/firstName', message: /required/ }]],
    ['a number where a string belongs (never coerced)', '/customers', { body: { ...customer, firstName: 123 } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/firstName', message: 'must be string' }]],
    ['a string where a boolean belongs (never coerced)', '/customers', { body: { ...customer, promotionOptIn: 'true' } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/promotionOptIn', message: 'must be boolean' }]],
    ['an unknown property', '/customers', { body: { ...customer, nickname: 'JJ' } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/nickname', message: 'is not a known property' }]],
    ['an unknown property of an attribute', '/customers', { body: { ...customer, attributes: [{ name: 'a', type: 'STRING', value: 1, extra: 1 }] } },
      400, 'VALIDATION_FAILED', [{ path: '/body/attributes/0/extra', message: 'is not a known property' }]],
    ['an attribute without a value', '/customers', { body: { ...customer, attributes: [{ name: 'a', type: 'STRING' }] } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/attributes/0/value', message: /required/ }]],
    ['an attribute whose value is null (Fluent\'s Json! refuses it)', '/customers', { body: { ...customer, attributes: [{ name: 'a', type: 'STRING', value: null }] } },
      400, 'VALIDATION_FAILED', [{ path: '/body/attributes/0/value', message: /NOT be valid/ }]],
    ['a first name over Fluent\'s 50 characters', '/customers', { body: { ...customer, firstName: 'x'.repeat(51) } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/firstName', message: /50/ }]],
    ['a phone over Fluent\'s 20 characters', '/customers', { body: { ...customer, phone: '1'.repeat(21) } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/phone', message: /20/ }]],
    ['a time zone over Fluent\'s 32 characters', '/customers', { body: { ...customer, timezone: 'x'.repeat(33) } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/timezone', message: /32/ }]],
    ['a product summary over Fluent\'s 255 characters', '/products', { body: { ref: 'R', name: 'N', gtin: 'G', summary: 'x'.repeat(256) } }, 400,
      'VALIDATION_FAILED', [{ path: '/body/summary', message: /255/ }]],
    ['an email that is not one', '/customers', { body: { ...customer, email: 'not-an-email' } }, 400, 'VALIDATION_FAILED',
      [{ path: '/body/email', message: /format/ }]],
    ['a product price that is not a number', '/products', { body: { ref: 'R', name: 'N', gtin: 'G', price: { value: '1', currency: 'AUD' } } },
      400, 'VALIDATION_FAILED', [{ path: '/body/price/value', message: 'must be number' }]],
    ['malformed JSON', '/customers', { body: '{"email": ', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED', undefined],
    ['an empty JSON body', '/customers', { method: 'POST', body: '', headers: { 'content-type': 'application/json' } }, 400, 'VALIDATION_FAILED', undefined],
    ['no body at all', '/customers', { method: 'POST' }, 400, 'VALIDATION_FAILED', undefined],
    ['a JSON array body', '/customers', { body: [customer] }, 400, 'VALIDATION_FAILED', undefined],
    ['a body that is not JSON', '/customers', { body: 'email=a@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415, 'UNSUPPORTED_MEDIA_TYPE', undefined],
    ['limit=0', '/customers?limit=0', {}, 400, 'VALIDATION_FAILED', [{ path: '/querystring/limit', message: /1/ }]],
    ['limit=101', '/customers?limit=101', {}, 400, 'VALIDATION_FAILED', [{ path: '/querystring/limit', message: /100/ }]],
    ['limit=abc', '/customers?limit=abc', {}, 400, 'VALIDATION_FAILED', [{ path: '/querystring/limit', message: 'must be integer' }]],
    ['limit=1.5', '/customers?limit=1.5', {}, 400, 'VALIDATION_FAILED', [{ path: '/querystring/limit', message: 'must be integer' }]],
    ['an empty cursor', '/customers?cursor=', {}, 400, 'VALIDATION_FAILED', [{ path: '/querystring/cursor', message: /fewer than 1/ }]],
    ['an unknown query parameter', '/customers?colour=red', {}, 400, 'VALIDATION_FAILED', [{ path: '/querystring/colour', message: 'is not a known property' }]],
    ['a customer id with spaces', '/customers/a%20b', {}, 400, 'VALIDATION_FAILED', [{ path: '/params/id', message: /pattern/ }]],
    ['a customer id too long', `/customers/${'9'.repeat(65)}`, {}, 400, 'VALIDATION_FAILED', [{ path: '/params/id', message: /64/ }]],
    ['no API key', '/me', { apiKey: null }, 401, 'UNAUTHENTICATED', undefined],
    ['an unknown API key', '/me', { apiKey: null, headers: { authorization: 'Bearer not-a-key' } }, 401, 'UNAUTHENTICATED', undefined],
    ['an unknown X-API-Key', '/customers', { apiKey: null, headers: { 'x-api-key': 'not-a-key' }, body: customer }, 401, 'UNAUTHENTICATED', undefined],
    ['a Basic authorization', '/me', { apiKey: null, headers: { authorization: 'Basic dXNlcjpwYXNz' } }, 401, 'UNAUTHENTICATED', undefined],
    ['an unknown route', '/no-such-route', {}, 404, 'NOT_FOUND', undefined],
    ['an unknown route without a key', '/nowhere?x=1', { apiKey: null }, 404, 'NOT_FOUND', undefined],
    ['a method the route lacks', '/me', { method: 'DELETE' }, 405, 'METHOD_NOT_ALLOWED', undefined]
  ]

  it.each(cases)('answers %s with problem+json and no upstream call', async (_what, path, options, status, code, errors) => {
    const answer = await call(gw, path, options)

    expectProblem(answer, status, code, path.split('?')[0] ?? path)
    if (errors !== undefined) {
      expect(answer.body.errors).toEqual(errors.map(({ path, message }) =>
        ({ path, message: typeof message === 'string' ? message : expect.stringMatching(message) })))
    }
    expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
  })

  it('lists every validation failure at once', async () => {
    const answer = await call(gw, '/customers', { body: { firstName: 5, extra: true } })

    expectProblem(answer, 400, 'VALIDATION_FAILED', '/customers')
    expect(answer.body.errors).toEqual(expect.arrayContaining([
      { path: '/body/email', message: expect.stringContaining('required') },
      { path: '/body/firstName', message: 'must be string' },
      { path: '/body/extra', message: 'is not a known property' }
    ]))
  })

  it('answers 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const answer = await call(gw, '/customers', { body: { ...customer, lastName: 'x'.repeat(gw.config.BODY_LIMIT_BYTES) } })

    expectProblem(answer, 413, 'PAYLOAD_TOO_LARGE', '/customers')
    expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
  })
})

describe('Fluent\'s failures become problems', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }))

  it('answers 409 CONFLICT with Fluent\'s code when the username already exists', async () => {
    expect((await call(gw, '/customers', { body: customer })).status).toBe(201)
    const answer = await call(gw, '/customers', { body: { ...customer, email: 'other@example.com', username: customer.email } })

    expectProblem(answer, 409, 'CONFLICT', '/customers')
    expect(answer.body.upstream).toEqual({ status: 200, codes: ['C0123E'], messages: [expect.stringContaining('already exists')] })
    expect(gw.sim.counters.graphqlRequests).toBe(2)
  })

  it('answers 404 NOT_FOUND with C0120E when the retailer does not exist', async () => {
    const answer = await call(gw, '/customers', { body: { ...customer, retailerId: '999' } })

    expectProblem(answer, 404, 'NOT_FOUND', '/customers')
    expect(answer.body.upstream.codes).toEqual(['C0120E'])
    expect((gw.sim.requests[0]?.variables as { input: { retailer: unknown } }).input.retailer).toEqual({ id: '999' })
  })

  it('answers 422 UPSTREAM_REJECTED when Fluent refuses the input', async () => {
    const answer = await call(gw, '/customers?cursor=not-a-cursor')

    expectProblem(answer, 422, 'UPSTREAM_REJECTED', '/customers')
    expect(answer.body.upstream.codes).toEqual(['C0100E'])
  })

  it('answers 422 UPSTREAM_REJECTED with Fluent\'s code and first line, but none of its stack trace or internal hosts', async () => {
    const message = 'java.lang.IllegalStateException: C0100E Invalid retailer on db-7.prod.fluent.internal:5432\n' +
      '\tat com.fluentcommerce.api.RetailerService.get(RetailerService.java:88)\n\tat java.base/java.lang.Thread.run(Thread.java:833)'
    gw.sim.faults.graphqlFailures.push({ status: 200, body: JSON.stringify({ data: null, errors: [{ message, extensions: { code: 'C0100E' } }] }), times: 1 })
    const answer = await call(gw, '/customers', { body: customer })

    expectProblem(answer, 422, 'UPSTREAM_REJECTED', '/customers')
    expect(answer.body.detail).toBe('C0100E Invalid retailer on [redacted]')
    expect(answer.body.upstream).toEqual({ status: 200, codes: ['C0100E'], messages: ['C0100E Invalid retailer on [redacted]'] })
    expect(answer.text).not.toMatch(/java|fluentcommerce|internal|5432|Thread/)
  })

  it('answers 502 UPSTREAM_UNAVAILABLE when Fluent fails with a 500, leaking nothing of Fluent\'s body', async () => {
    const stack = `java.lang.IllegalStateException: boom at com.fluentretail.Api.handle(Api.java:42) host ${new URL(gw.sim.url).host}`
    gw.sim.faults.graphqlFailures.push({ status: 500, body: JSON.stringify({ errors: [{ message: stack }] }), times: 1 })
    const answer = await call(gw, '/customers', { body: customer })

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE', '/customers')
    expect(answer.body.upstream).toMatchObject({ status: 500 })
    expect(answer.text).not.toContain('IllegalStateException')
    expectNoLeak(gw, answer)
    // A mutation that may have reached Fluent is never sent twice.
    expect(gw.sim.counters.graphqlRequests).toBe(1)
  })

  it('retries a query after a 503 and answers 200', async () => {
    gw.sim.faults.graphqlFailures.push({ status: 503, times: 1 })
    const answer = await call(gw, '/me')

    expect(answer.status).toBe(200)
    expect(gw.sim.requests.map((request) => request.status)).toEqual([503, 200])
  })

  it('answers 502 UPSTREAM_UNAVAILABLE when Fluent answers 200 with a body that is not JSON', async () => {
    gw.sim.faults.graphqlFailures.push({ status: 200, body: '<html>proxy error</html>', times: 3 })
    const answer = await call(gw, '/me')

    expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE', '/me')
    expect(answer.text).not.toContain('proxy error')
    expectNoLeak(gw, answer)
  })

  it('answers 429 RATE_LIMITED with Fluent\'s Retry-After on a mutation, sending it once', async () => {
    gw.sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '7' }, times: 1 })
    const answer = await call(gw, '/customers', { body: customer })

    expectProblem(answer, 429, 'RATE_LIMITED', '/customers')
    expect(answer.headers.get('retry-after')).toBe('7')
    expect(answer.body.upstream).toMatchObject({ status: 429 })
    expect(gw.sim.counters.graphqlRequests).toBe(1)
  })
})

describe('refused tenant credentials', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }), { reset: false })

  it('answer 502 UPSTREAM_AUTH_FAILED, leaking none of them, and are remembered for a short back-off', async () => {
    gw.sim.faults.badCredentials = true
    const answer = await call(gw, '/me')

    expectProblem(answer, 502, 'UPSTREAM_AUTH_FAILED', '/me')
    expect(answer.body.upstream).toMatchObject({ status: 400, codes: ['invalid_grant'] })
    expectNoLeak(gw, answer)
    expect(gw.sim.counters).toMatchObject({ tokenRequests: 1, graphqlRequests: 0 })

    const again = await call(gw, '/customers', { body: customer })
    expectProblem(again, 502, 'UPSTREAM_AUTH_FAILED', '/customers')
    expectNoLeak(gw, again)
    expect(gw.sim.counters).toMatchObject({ tokenRequests: 1, graphqlRequests: 0 })
  })
})

describe('a revoked token', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }), { reset: false })

  it('is renewed once: the next call answers 200 after exactly one new token request and one 401', async () => {
    expect((await call(gw, '/me')).status).toBe(200)
    const before = { ...gw.sim.counters }
    gw.sim.revokeTokens()

    const answer = await call(gw, '/customers', { body: customer })

    expect(answer.status).toBe(201)
    expect(gw.sim.counters.tokenRequests - before.tokenRequests).toBe(1)
    expect(gw.sim.counters.unauthorizedRequests - before.unauthorizedRequests).toBe(1)
    expect(gw.sim.counters.graphqlRequests - before.graphqlRequests).toBe(2)
    // The retried mutation created exactly one customer.
    expect((await call(gw, '/customers')).body.items).toHaveLength(1)
  })

  it('answers 502 UPSTREAM_AUTH_FAILED without looping when Fluent refuses the new token too', async () => {
    gw.sim.reset()
    gw.sim.faults.graphqlFailures.push({ status: 401, body: '{"errors":[{"code":"401","message":"Unauthorized"}]}', times: 2 })
    const answer = await call(gw, '/me')

    expectProblem(answer, 502, 'UPSTREAM_AUTH_FAILED', '/me')
    expect(gw.sim.counters.graphqlRequests).toBe(2)
    expect(gw.sim.counters.tokenRequests).toBe(1)
  })
})

describe('a slow Fluent', () => {
  const deadlineMs = 300

  const gw = useGateway(() => ({ redisUrl: inject('redisUrl'), env: { FLUENT_TIMEOUT_MS: String(deadlineMs) } }))

  it('answers 504 UPSTREAM_TIMEOUT within the deadline when Fluent never answers a query', async () => {
    expect((await call(gw, '/me')).status).toBe(200)
    gw.sim.faults.hang = true
    const started = performance.now()
    const answer = await call(gw, '/me')
    const took = performance.now() - started

    expectProblem(answer, 504, 'UPSTREAM_TIMEOUT', '/me')
    expect(took).toBeLessThan(deadlineMs + 1000)
    expectNoLeak(gw, answer)
  })

  it('answers 504 UPSTREAM_TIMEOUT within the deadline when a mutation is too slow', async () => {
    gw.sim.faults.graphqlDelayMs = 2_000
    const started = performance.now()
    const answer = await call(gw, '/customers', { body: customer })

    expectProblem(answer, 504, 'UPSTREAM_TIMEOUT', '/customers')
    expect(performance.now() - started).toBeLessThan(deadlineMs + 1000)
    expect(gw.sim.counters.graphqlRequests).toBe(1)
  })

  it('answers 504 UPSTREAM_TIMEOUT when the token endpoint is too slow', async () => {
    gw.sim.revokeTokens()
    gw.sim.faults.tokenDelayMs = 2_000
    const started = performance.now()
    const answer = await call(gw, '/me')

    expectProblem(answer, 504, 'UPSTREAM_TIMEOUT', '/me')
    expect(performance.now() - started).toBeLessThan(deadlineMs + 1000)
  })
})

describe('request ids', () => {
  const gw = useGateway(() => ({ redisUrl: inject('redisUrl') }))

  it('echoes a sane caller id on errors too', async () => {
    const answer = await call(gw, '/customers', { body: {}, headers: { 'x-request-id': 'erp-1' } })

    expect(answer.headers.get('x-request-id')).toBe('erp-1')
    expect(answer.body.requestId).toBe('erp-1')
  })

  it.each([
    ['300 characters', 'a'.repeat(300)],
    ['spaces', 'has spaces in it'],
    ['a newline escape', 'a%0d%0ab'],
    ['quotes', '"quoted"']
  ])('replaces a caller id with %s by a generated one, and sends that to Fluent', async (_what, given) => {
    const answer = await call(gw, '/me', { headers: { 'x-request-id': given } })

    expect(answer.status).toBe(200)
    const id = answer.headers.get('x-request-id')
    expect(id).not.toBe(given)
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(gw.sim.requests[0]?.headers['x-request-id']).toBe(id)
  })

  it('generates a different id for each request without one', async () => {
    const first = await call(gw, '/me')
    const second = await call(gw, '/me')

    expect(first.headers.get('x-request-id')).not.toBe(second.headers.get('x-request-id'))
  })
})

describe('the error handler, for refusals from Fastify plugins', () => {
  it('answers a plugin\'s bare 429 as RATE_LIMITED, keeping the Retry-After it set', async () => {
    const app = Fastify({ logger: false })
    await app.register(errorsPlugin)
    // What a rate-limiting plugin throws: an error with a status only, after setting Retry-After.
    app.get('/limited', async (_request, reply) => {
      reply.header('retry-after', '60')
      throw Object.assign(new Error('Rate limit exceeded, retry in 1 minute'), { statusCode: 429 })
    })
    try {
      const answer = await app.inject('/limited')

      expect(answer.statusCode).toBe(429)
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(answer.headers['retry-after']).toBe('60')
      expect(answer.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED', instance: '/limited' })
    } finally {
      await app.close()
    }
  })

  it('answers load shedding as 503 UNAVAILABLE with Retry-After, not as an internal error', async () => {
    const app = Fastify({ logger: false })
    await app.register(errorsPlugin)
    await app.register(underPressure, { healthCheck: async () => false, healthCheckInterval: 60_000, retryAfter: 7 })
    app.get('/busy', async () => ({ ok: true }))
    try {
      const answer = await app.inject('/busy')

      expect(answer.statusCode).toBe(503)
      expect(answer.headers['retry-after']).toBe('7')
      expect(answer.json()).toMatchObject({ status: 503, code: 'UNAVAILABLE' })
    } finally {
      await app.close()
    }
  })

  it('answers an unexpected error as 500 INTERNAL without its message or stack', async () => {
    const app = Fastify({ logger: false })
    await app.register(errorsPlugin)
    app.get('/boom', async () => { throw new Error('connect ECONNREFUSED 10.1.2.3:6379 password=hunter2') })
    try {
      const answer = await app.inject('/boom')

      expect(answer.statusCode).toBe(500)
      expect(answer.json()).toMatchObject({ status: 500, code: 'INTERNAL' })
      expect(answer.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|hunter2|at /)
    } finally {
      await app.close()
    }
  })
})
