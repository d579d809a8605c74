// One structured log line per request (tenant, route, status, total and upstream time), replacing Fastify's two.
import fp from 'fastify-plugin'
import type { Tenant } from '../config/tenants.js'
import { upstreamMsOf } from './fluent.js'

/** Probes and scrapes arrive every few seconds; their successes go to debug so they do not drown the traffic. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

const round = (ms: number): number => Math.round(ms * 10) / 10

export default fp(async function accessLogPlugin (app) {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url
    // Set by the auth hook; a request refused before it (shed, unknown route) has none.
    const tenant = request.tenant as Tenant | null
    const line = {
      tenant: tenant?.id,
      method: request.method,
      // The pattern, and the path only for unmatched routes: query strings can hold e-mail addresses.
      route: route ?? 'unmatched',
      ...(route === undefined ? { path: request.url.split('?')[0] } : {}),
      status: reply.statusCode,
      ms: round(reply.elapsedTime),
      upstreamMs: round(upstreamMsOf(request))
    }
    if (reply.statusCode < 400 && route !== undefined && QUIET_ROUTES.has(route)) request.log.debug(line, 'request completed')
    else request.log.info(line, 'request completed')
    done()
  })
}, { name: 'access-log' })
