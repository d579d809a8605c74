// Caller authentication: an API key (Bearer or X-API-Key), looked up by its SHA-256 digest, selects one tenant.
import { hash } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Tenant } from '../config/tenants.js'
import { UnauthenticatedError } from '../errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant
    /** SHA-256 (hex) of the caller's API key: it names the caller to the rate limit without keeping the key. */
    apiKeyDigest: string
  }
  interface FastifyContextConfig {
    /** Routes open without an API key (health, docs, metrics). */
    public?: boolean
  }
}

function presentedKey (authorization: string | undefined, apiKeyHeader: string | string[] | undefined): string | undefined {
  if (typeof apiKeyHeader === 'string' && apiKeyHeader !== '') return apiKeyHeader
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (match !== null) return match[1]
  }
  return undefined
}

export default fp(async function authPlugin (app, opts: { tenants: Tenant[] }) {
  const byDigest = new Map<string, Tenant>()
  for (const tenant of opts.tenants) {
    for (const digest of tenant.apiKeyDigests) byDigest.set(digest, tenant)
  }

  app.decorateRequest('tenant', null as unknown as Tenant)
  app.decorateRequest('apiKeyDigest', '')

  // A callback hook, not an async one: it runs on every request and has nothing to wait for.
  app.addHook('onRequest', (request, reply, done) => {
    // Unmatched routes fall through to the 404 handler; public routes need no key.
    if (request.routeOptions.url === undefined || request.routeOptions.config.public === true) {
      done()
      return
    }
    const key = presentedKey(request.headers.authorization, request.headers['x-api-key'])
    const digest = key === undefined ? '' : hash('sha256', key, 'hex')
    const tenant = byDigest.get(digest)
    if (tenant === undefined) {
      // A 401 must say how to authenticate (RFC 9110 §11.6.1).
      reply.header('www-authenticate', 'Bearer realm="fluent-rest-gateway"')
      done(new UnauthenticatedError(key === undefined
        ? 'Send your API key as "Authorization: Bearer <key>" or "X-API-Key: <key>"'
        : 'The API key is not known'))
      return
    }
    request.tenant = tenant
    request.apiKeyDigest = digest
    done()
  })
}, { name: 'auth' })
