// The live schema check (src/fluent/schema-check.ts) in the app: started once the app is ready, in the background
// (readiness never waits for it), its states on /readyz, its drift on fgw_schema_drift, stopped on close.
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { builtInDocuments } from '../fluent/documents.js'
import { SchemaCheck } from '../fluent/schema-check.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Each tenant's live schema state, and which documents the Fluent client must refuse. */
    schemaCheck: SchemaCheck
  }
}

export default fp(async function schemaCheckPlugin (app, opts: { config: Config }) {
  const { config } = opts
  const documents = [
    ...builtInDocuments(),
    ...(config.routes ?? []).map((route) => ({ name: route.operationId, document: route.document }))
  ]
  const redis = app.redis
  const check = new SchemaCheck({
    tenants: config.tenants,
    documents,
    intervalMs: config.SCHEMA_CHECK_INTERVAL_MS,
    // The same client as every request: token provider, deadline, retries, circuit and metrics.
    introspect: async (tenant, query) => await app.fluentClient.data(tenant,
      { query, operationName: 'IntrospectionQuery', kind: 'query' }, { requestId: `schema-check-${tenant.id}` }),
    redis: redis === undefined
      ? undefined
      : {
          client: {
            get: async (key) => await redis.client.get(key),
            set: async (key, value, ms, onlyIfAbsent) =>
              (onlyIfAbsent ? await redis.client.set(key, value, 'PX', ms, 'NX') : await redis.client.set(key, value, 'PX', ms)) === 'OK',
            eval: async (script, key, arg) => await redis.client.eval(script, 1, key, arg)
          },
          prefix: config.REDIS_KEY_PREFIX,
          usable: () => redis.health.usable()
        },
    log: app.log,
    onDrift: (tenant, route, drifted) => { app.metrics.schemaDrift(tenant, route, drifted) }
  })
  app.decorate('schemaCheck', check)
  app.addHook('onReady', async () => { check.start() })
  app.addHook('onClose', async () => { check.stop() })
}, { name: 'schema-check', dependencies: ['redis', 'metrics'] })
