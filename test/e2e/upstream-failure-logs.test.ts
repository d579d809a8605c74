// During an outage the log stays small: expected upstream failures are counted and logged once per code per window, no stack.
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import pino from 'pino'
import { Counter, Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import errorsPlugin from '../../src/plugins/errors.js'
import { createUpstreamFailures } from '../../src/plugins/upstream-failures.js'
import { call, expectProblem, metricValue } from '../helpers/call.js'
import { LogCapture, startGateway, type TestGateway } from '../helpers/gateway.js'

interface Line { level: number, msg: string, code?: string, err?: unknown, suppressed?: number, reqId?: string, origin?: string, route?: string }

const parse = (logs: LogCapture): Line[] => logs.lines.map((line) => JSON.parse(line) as Line)

describe('an outage with the circuit open', () => {
  let gw: TestGateway

  beforeAll(async () => {
    gw = await startGateway({ redisUrl: inject('redisUrl'), env: { FLUENT_CIRCUIT_FAILURES: '2', FLUENT_CIRCUIT_COOL_DOWN_MS: '60000' } })
  })
  afterAll(async () => { await gw.close() })

  it('logs one warn line without a stack for 100 fast 502s, and counts every one in fgw_upstream_failures_total', async () => {
    expect((await call(gw, '/me')).status).toBe(200)
    gw.sim.faults.graphqlFailures.push({ status: 500, body: '{"errors":[{"message":"boom"}]}', times: 1_000 })
    const before = gw.logs.lines.length

    const answers: Array<Awaited<ReturnType<typeof call>>> = []
    for (let index = 0; index < 100; index++) answers.push(await call(gw, '/me'))

    for (const answer of answers) expectProblem(answer, 502, 'UPSTREAM_UNAVAILABLE', '/me')
    // The circuit opened after two calls that reached Fluent (each retried): the rest failed fast.
    expect(gw.sim.counters.graphqlRequests).toBeLessThanOrEqual(6)
    const lines = parse(gw.logs).slice(before).filter((line) => line.msg !== 'request completed')
    expect(lines.filter((line) => line.level >= 50)).toEqual([])
    const failures = lines.filter((line) => line.msg === 'request failed')
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ level: 40, code: 'UPSTREAM_UNAVAILABLE', reqId: expect.any(String), origin: new URL(gw.sim.url).origin, route: 'GET /me' })
    expect(failures[0]?.err).toBeUndefined()
    expect(JSON.stringify(lines)).not.toMatch(/stack|\bat \S+ \(/)

    const metrics = (await call(gw.url, '/metrics')).text
    expect(metricValue(metrics, 'fgw_upstream_failures_total', { code: 'UPSTREAM_UNAVAILABLE' })).toBe(100)
    expect(metrics).not.toMatch(/fgw_upstream_failures_total\{[^}]*(tenant|origin)/)
  })
})

describe('the failure log', () => {
  it('writes one line per code per window, then one line with the count suppressed since', async () => {
    const logs = new LogCapture()
    const log = pino({ level: 'info' }, logs)
    const counter = new Counter({ name: 'test_failures_total', help: 'test', labelNames: ['code'] as const, registers: [new Registry()] })
    const failures = createUpstreamFailures(log, counter, 300)
    const request = { log, method: 'GET', routeOptions: { url: '/me' }, tenant: null } as unknown as Parameters<typeof failures.record>[0]

    for (let index = 0; index < 50; index++) failures.record(request, 'UPSTREAM_TIMEOUT', 504)
    failures.record(request, 'UPSTREAM_UNAVAILABLE', 502)
    await sleep(450)
    failures.record(request, 'UPSTREAM_TIMEOUT', 504)

    const lines = parse(logs).map(({ msg, code, suppressed }) => ({ msg, code, suppressed }))
    expect(lines).toEqual([
      { msg: 'request failed', code: 'UPSTREAM_TIMEOUT', suppressed: undefined },
      { msg: 'request failed', code: 'UPSTREAM_UNAVAILABLE', suppressed: undefined },
      { msg: 'upstream failures suppressed', code: 'UPSTREAM_TIMEOUT', suppressed: 49 },
      // The window restarts at the summary: this one is held for the next summary.
    ])
    failures.close()
    expect(parse(logs).at(-1)).toMatchObject({ msg: 'upstream failures suppressed', code: 'UPSTREAM_TIMEOUT', suppressed: 1 })
  })

  it('keeps the error line with its stack for a genuine 500 INTERNAL', async () => {
    const logs = new LogCapture()
    const app = Fastify({ logger: { level: 'info', stream: logs } })
    await app.register(errorsPlugin)
    app.get('/boom', async () => { throw new TypeError('a bug in the gateway') })
    try {
      expect((await app.inject('/boom')).statusCode).toBe(500)
      const failure = parse(logs).find((line) => line.msg === 'request failed')
      expect(failure).toMatchObject({ level: 50, code: 'INTERNAL', err: { stack: expect.stringContaining('a bug in the gateway') } })
    } finally {
      await app.close()
    }
  })
})
