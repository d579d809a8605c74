// Expected upstream failures (Fluent down, slow, refusing; the gateway shedding): counted, logged one line per code per window.
import type { FastifyBaseLogger, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { Tenant } from '../config/tenants.js'
import { PROBLEMS } from '../errors.js'

/** At most one warn line per code per window; the failures in between are counted and summed up in the next line. */
export const FAILURE_LOG_WINDOW_MS = 10_000

export interface UpstreamFailures {
  /** Counts one failure and logs it unless a line for its code went out less than a window ago. */
  record: (request: FastifyRequest, code: string, status: number) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    upstreamFailures: UpstreamFailures
  }
}

interface CodeState {
  loggedAt: number
  suppressed: number
  timer?: NodeJS.Timeout | undefined
}

/** Where the failure happened: the Fluent origin (logs only; never a metric label, /metrics is public) and the route. */
function whereFields (request: FastifyRequest): { origin?: string, route: string } {
  const tenant = request.tenant as Tenant | null | undefined
  let origin: string | undefined
  try {
    origin = tenant === null || tenant === undefined ? undefined : new URL(tenant.fluent.baseUrl).origin
  } catch {
    origin = undefined
  }
  return { ...(origin === undefined ? {} : { origin }), route: `${request.method} ${request.routeOptions.url ?? 'unmatched'}` }
}

export function createUpstreamFailures (log: FastifyBaseLogger, counter: Counter<'code'>, windowMs = FAILURE_LOG_WINDOW_MS): UpstreamFailures & { close: () => void } {
  const states = new Map<string, CodeState>()

  const flush = (code: string): void => {
    const state = states.get(code)
    if (state === undefined) return
    state.timer = undefined
    if (state.suppressed === 0) return
    log.warn({ code, suppressed: state.suppressed, windowMs }, 'upstream failures suppressed')
    state.loggedAt = Date.now()
    state.suppressed = 0
  }

  return {
    record (request, code, status) {
      counter.inc({ code })
      const now = Date.now()
      const state = states.get(code)
      if (state === undefined || (state.timer === undefined && now - state.loggedAt >= windowMs)) {
        // One line, no stack: the code says what happened, and the stack of a fast 502 is always the same.
        request.log.warn({ code, status, ...whereFields(request) }, 'request failed')
        states.set(code, { loggedAt: now, suppressed: 0 })
        return
      }
      state.suppressed++
      if (state.timer === undefined) {
        state.timer = setTimeout(() => { flush(code) }, Math.max(0, state.loggedAt + windowMs - now))
        state.timer.unref()
      }
    },
    close () {
      for (const code of states.keys()) {
        clearTimeout(states.get(code)?.timer)
        flush(code)
      }
    }
  }
}

export default fp(async function upstreamFailuresPlugin (app) {
  const counter = new Counter({
    name: 'fgw_upstream_failures_total',
    help: 'Requests answered with an expected upstream failure (UPSTREAM_*, UNAVAILABLE), by problem code',
    labelNames: ['code'] as const,
    registers: [app.metrics.registry]
  })
  // Every code it can count starts at 0, so a dashboard's rate() has a series before the first outage.
  for (const [code, row] of Object.entries(PROBLEMS)) if (row.status >= 500 && code !== 'INTERNAL') counter.inc({ code }, 0)
  const failures = createUpstreamFailures(app.log, counter)
  app.decorate('upstreamFailures', { record: failures.record })
  app.addHook('onClose', async () => { failures.close() })
}, { name: 'upstream-failures', dependencies: ['metrics'] })
