// Protection of the process itself: security headers and load shedding under event-loop pressure.
import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet from 'helmet'
import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { UnavailableError, withExtras } from '../errors.js'

/** Stay answerable under pressure: probes must not fail because the gateway is busy, and metrics show why it is. */
const NEVER_SHED = new Set(['/healthz', '/readyz', '/metrics'])

/** Under-pressure samples once a second, so shedding lasts at least that long; two seconds lets the loop catch up. */
const SHED_RETRY_AFTER_SECONDS = 2

/**
 * Boot work (schema compilation, JIT warm-up, a test process starting its simulator) blocks the loop for long stretches
 * that say nothing about load, and the first samples would shed the first requests; pressure counts after this.
 */
const WARM_UP_MS = 5_000

/**
 * Helmet's headers, computed once: they depend on nothing in the request, and @fastify/helmet rebuilt them on every
 * request (about 5% of the CPU of GET /me in the profile).
 */
function securityHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader (name: string, value: string | number | readonly string[]) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { Reflect.deleteProperty(headers, name.toLowerCase()) }
  }
  helmet({
    contentSecurityPolicy: {
      // Helmet's defaults suit Swagger UI (its scripts and styles are files under /docs/static), except this one:
      // the gateway is often reached over plain HTTP inside a cluster, where an upgrade would break /docs.
      directives: { upgradeInsecureRequests: null }
    }
  })({} as IncomingMessage, recorder as unknown as ServerResponse, () => {})
  return headers
}

export default fp(async function protectionPlugin (app, opts: { config: Config }) {
  const headers = securityHeaders()
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })

  const maxEventLoopDelay = opts.config.MAX_EVENT_LOOP_DELAY_MS
  if (maxEventLoopDelay > 0) {
    let warmUntil = Infinity
    app.addHook('onReady', async () => { warmUntil = performance.now() + WARM_UP_MS })
    await app.register(underPressure, {
      maxEventLoopDelay,
      pressureHandler: async (request, _reply, _type, value) => {
        if (performance.now() < warmUntil) return
        if (request.routeOptions.url !== undefined && NEVER_SHED.has(request.routeOptions.url)) return
        request.log.warn({ eventLoopDelay: value, maxEventLoopDelay }, 'event loop overloaded: shedding request')
        throw withExtras(new UnavailableError('The gateway is overloaded; retry shortly'), { retryAfterSeconds: SHED_RETRY_AFTER_SECONDS })
      }
    })
  }
}, { name: 'protection' })
