// The OpenAPI 3.1 document, generated from the route schemas, and Swagger UI at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'

export const OPENAPI_INFO = {
  title: 'Fluent REST Gateway',
  version: '0.1.0',
  description: 'Plain REST for Fluent Commerce. Each call becomes one Fluent GraphQL operation, sent with your tenant\'s OAuth token (shared through Redis). ' +
    'Authenticate with your API key: "Authorization: Bearer <key>" or "X-API-Key: <key>". Every error is application/problem+json (RFC 9457).'
}

export default fp(async function openapiPlugin (app) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      tags: [
        { name: 'account', description: 'The tenant\'s Fluent account' },
        { name: 'customers', description: 'Fluent customers' },
        { name: 'products', description: 'Fluent products' },
        { name: 'graphql', description: 'Your own GraphQL, passed through to Fluent' },
        { name: 'operations', description: 'Health, for operators' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <API key>' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'X-API-Key: <API key>' }
        }
      },
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }]
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => typeof json.$id === 'string' ? json.$id : `def-${index}`
    }
  })

  // Swagger UI is public (the key is typed into it by the user): every route it adds is marked so.
  await app.register(async function publicDocs (docs) {
    docs.addHook('onRoute', (route) => { route.config = { ...route.config, public: true } })
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: true, tryItOutEnabled: true, displayRequestDuration: true }
    })
  })

  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
