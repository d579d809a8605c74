// One structured log line per request (tenant, route, status, total and upstream time), replacing Fastify's two.
import fp from 'fastify-plugin'
import type { Tenant } from '../config/tenants.js'

/** Probes and scrapes arrive every few seconds; their successes go to debug so they do not drown the traffic. */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics'])

const round = (ms: number): number => Math.round(ms * 10) / 10

export default fp(async function accessLogPlugin (app) {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url
    // Set by the auth and fluent hooks; a request refused before them (shed, unknown route) has neither.
    const tenant = request.tenant as Tenant | null
    const context = request.fluentContext as typeof request.fluentContext | null
    const line = {
      tenant: tenant?.id,
      method: request.method,
      // The pattern, and the path only for unmatched routes: query strings can hold e-mail addresses.
      route: route ?? 'unmatched',
      ...(route === undefined ? { path: request.url.split('?')[0] } : {}),
      status: reply.statusCode,
      ms: round(reply.elapsedTime),
      upstreamMs: round(context?.upstreamMs ?? 0)
    }
    if (reply.statusCode < 400 && route !== undefined && QUIET_ROUTES.has(route)) request.log.debug(line, 'request completed')
    else request.log.info(line, 'request completed')
  })
}, { name: 'access-log' })
