// Protection of the process: body limit (413), security headers that keep Swagger UI working, load shedding under event-loop pressure.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, startGateway, type TestGateway } from '../helpers/gateway.js'

describe('protection', () => {
  let sim: Simulator
  let gw: TestGateway

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT] })
    gw = await startGateway({ sim, redisUrl: inject('redisUrl'), env: { BODY_LIMIT_BYTES: '2048' } })
  })
  afterEach(() => { sim.reset() })
  afterAll(async () => {
    await gw.close()
    await sim.close()
  })

  describe('the body limit', () => {
    it('answers 413 PAYLOAD_TOO_LARGE as problem+json for a body over BODY_LIMIT_BYTES, calling nothing', async () => {
      const body = { email: 'big@example.com', firstName: 'x'.repeat(4096) }

      const answer = await call(gw, '/customers', { body })

      expect(answer.status).toBe(413)
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(answer.body).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', instance: '/customers', requestId: answer.headers.get('x-request-id') })
      expect(sim.requests).toHaveLength(0)
      expect(sim.counters.tokenRequests).toBe(0)
    })

    it('answers 413 for a chunked body that grows past the limit', async () => {
      const chunks = ['{"query":"', 'x'.repeat(1500), 'x'.repeat(1500), '"}']
      const stream = new ReadableStream<Uint8Array>({
        start (controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk))
          controller.close()
        }
      })

      const response = await fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.apiKey}`, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half'
      } as RequestInit)

      expect(response.status).toBe(413)
      expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
      expect(sim.requests).toHaveLength(0)
    })

    it('accepts a body just under the limit', async () => {
      const body = JSON.stringify({ query: `query Me { me { id } }${' '.repeat(1900)}` })
      expect(Buffer.byteLength(body)).toBeLessThan(2048)

      const answer = await call(gw, '/graphql', { body, headers: { 'content-type': 'application/json' } })

      expect(answer.status).toBe(200)
      expect(sim.requests).toHaveLength(1)
    })
  })

  describe('security headers', () => {
    it('sets them on API answers, with a CSP that does not force HTTPS', async () => {
      const answer = await call(gw, '/me')

      expect(answer.status).toBe(200)
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
      expect(answer.headers.get('x-frame-options')).toBe('SAMEORIGIN')
      expect(answer.headers.get('strict-transport-security')).toMatch(/max-age=\d+/)
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
      const csp = answer.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("object-src 'none'")
      expect(csp).not.toContain('upgrade-insecure-requests')
    })

    it('sets them on problem answers too', async () => {
      const answer = await call(gw.url, '/me')

      expect(answer.status).toBe(401)
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
      expect(answer.headers.get('content-security-policy')).toContain("default-src 'self'")
    })

    it('serves Swagger UI and every asset its page loads, all from its own origin as the CSP requires', async () => {
      const page = await call(gw.url, '/docs')
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      const csp = page.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("script-src 'self'")
      // No inline script in the page: 'self' is enough for everything it runs.
      expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)

      const assets = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '')
      expect(assets.length).toBeGreaterThanOrEqual(5)
      for (const asset of assets) {
        const url = new URL(asset, `${gw.url}/docs`)
        expect(url.origin).toBe(gw.url)
        const answer = await fetch(url)
        await answer.arrayBuffer()
        expect(answer.status, asset).toBe(200)
      }
      const initializer = await call(gw.url, '/docs/static/swagger-initializer.js')
      expect(initializer.status).toBe(200)
      expect(initializer.headers.get('content-type')).toMatch(/javascript/)
    })
  })
})

describe('load shedding', () => {
  let gw: TestGateway

  beforeAll(async () => {
    gw = await startGateway({ redisUrl: inject('redisUrl'), env: { MAX_EVENT_LOOP_DELAY_MS: '100' } })
    expect((await call(gw, '/me')).status).toBe(200)
  })
  afterAll(async () => { await gw.close() })

  /** Polls (with the loop free between polls) until the gateway's own measure of the loop delay satisfies `test`. */
  async function untilDelay (test: (ms: number) => boolean): Promise<void> {
    const deadline = Date.now() + 15_000
    while (!test(gw.app.memoryUsage().eventLoopDelay)) {
      if (Date.now() > deadline) throw new Error(`event-loop delay stayed at ${gw.app.memoryUsage().eventLoopDelay} ms`)
      await sleep(50)
    }
  }

  it('answers 503 UNAVAILABLE with Retry-After while the event loop is overloaded, keeping health and metrics up', async () => {
    // Past the boot warm-up (5 s), during which pressure is not acted on.
    await sleep(5_200)
    const before = gw.sim.requests.length
    // Keeps the loop busy 150 ms out of every ~150 ms, with room for I/O in between: a saturated process.
    const blocker = setInterval(() => {
      const end = performance.now() + 150
      while (performance.now() < end);
    }, 1)
    let shed, healthz, readyz, metrics
    try {
      await untilDelay((ms) => ms > 100)
      shed = await call(gw, '/me')
      healthz = await call(gw.url, '/healthz')
      readyz = await call(gw.url, '/readyz')
      metrics = await call(gw.url, '/metrics')
    } finally {
      clearInterval(blocker)
    }

    expect(shed.status).toBe(503)
    expect(shed.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(shed.headers.get('retry-after')).toBe('2')
    expect(shed.body).toMatchObject({ status: 503, code: 'UNAVAILABLE', instance: '/me' })
    expect(gw.sim.requests.length).toBe(before)
    expect([healthz.status, readyz.status, metrics.status]).toEqual([200, 200, 200])

    await untilDelay((ms) => ms <= 100)
    expect((await call(gw, '/me')).status).toBe(200)
  })
})
