// Liveness and readiness for load balancers and orchestrators; open without an API key.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('draining')], {
    description: 'ok; degraded while Redis is down (tokens are then cached per process); draining during shutdown',
    examples: ['ok']
  }),
  redis: Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('disabled')], {
    description: 'Redis state; disabled when none of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES is set',
    examples: ['up']
  }),
  schema: Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('drift'), Type.Literal('unknown')]), {
    description: "per tenant, its live Fluent schema: ok, drift (some route's document no longer validates: it answers 502), or unknown (not checked yet, or introspection failed); never affects the status",
    examples: [{ acme: 'ok' }]
  })
})

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/healthz', {
    config: { public: true },
    schema: {
      tags: ['operations'],
      operationId: 'healthz',
      summary: 'Liveness',
      description: 'Answers 200 while the process lives.',
      security: [],
      response: { 200: Type.Object({ status: Type.Literal('ok', { description: 'always ok', examples: ['ok'] }) }, { description: 'The process is alive' }) }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    config: { public: true },
    schema: {
      tags: ['operations'],
      operationId: 'readyz',
      summary: 'Readiness',
      description: 'Answers 200 while the gateway takes traffic (degraded when Redis is down) and 503 while draining.',
      security: [],
      response: {
        200: { ...ReadinessSchema, description: 'Ready (ok or degraded)' },
        503: { ...ReadinessSchema, description: 'Draining: send no new traffic' }
      }
    }
  }, async (_request, reply) => {
    const redis = app.redisState()
    const schema = app.schemaCheck.states()
    if (app.draining) return await reply.code(503).header('retry-after', '5').send({ status: 'draining', redis, schema })
    return { status: redis === 'down' ? 'degraded' as const : 'ok' as const, redis, schema }
  })
}

export default healthRoutes
