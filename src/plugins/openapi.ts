// The OpenAPI 3.1 document, generated from the route schemas, and Swagger UI at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'

/** The document's version is the package's, so the two never drift (src/ and dist/ both sit two levels down). */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

export const OPENAPI_INFO = {
  title: 'Fluent REST Gateway',
  version,
  description: 'Plain REST for Fluent Commerce. Each call becomes one Fluent GraphQL operation, sent with your tenant\'s OAuth token (shared through Redis). ' +
    'Authenticate with your API key: `Authorization: Bearer <key>` or `X-API-Key: <key>` (in Swagger UI: Authorize, then paste the key under bearerAuth). ' +
    'Every error is `application/problem+json` (RFC 9457).',
  license: { name: 'MIT', identifier: 'MIT' }
}

/** The parts of an OpenAPI document that finishDocument touches; the rest passes through untouched. */
interface Parameter { required?: boolean, schema?: Record<string, unknown>, [key: string]: unknown }
interface Response { headers?: Record<string, unknown>, [key: string]: unknown }
interface Operation { parameters?: Parameter[], responses?: Record<string, Response>, [key: string]: unknown }
export interface OpenApiDocument {
  components?: Record<string, unknown> & { headers?: Record<string, unknown> }
  paths?: Record<string, Record<string, Operation | unknown>>
  [key: string]: unknown
}

const REQUEST_ID_HEADER = {
  description: 'the request id: the caller\'s x-request-id when it is short and plain, else a new UUID; also sent to Fluent and in every log line',
  schema: { type: 'string', examples: ['2f1c7a3e-6a1b-4f57-9e0e-7d7c0f7f3b1a'] }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

/**
 * Touches that no route schema can express: a parameter with a default is optional to the caller (TypeBox lists it as
 * required because the validator fills it in), and every response carries x-request-id (set by an app-wide hook).
 */
export function finishDocument (document: OpenApiDocument): OpenApiDocument {
  const components = { ...document.components, headers: { ...document.components?.headers, RequestId: REQUEST_ID_HEADER } }
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const finished: Record<string, unknown> = { ...item }
    for (const method of METHODS) {
      const operation = item[method] as Operation | undefined
      if (operation === undefined) continue
      finished[method] = {
        ...operation,
        ...(operation.parameters === undefined
          ? {}
          : {
              parameters: operation.parameters.map((parameter) => 'schema' in parameter && parameter.schema !== undefined && 'default' in parameter.schema
                ? { ...parameter, required: false }
                : parameter)
            }),
        responses: Object.fromEntries(Object.entries(operation.responses ?? {}).map(([status, response]) => [status, '$ref' in response
          ? response
          : { ...response, headers: { ...response.headers, 'x-request-id': { $ref: '#/components/headers/RequestId' } } }]))
      }
    }
    paths[path] = finished
  }
  return { ...document, components, paths }
}

export default fp(async function openapiPlugin (app) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: OPENAPI_INFO,
      // Relative, so Swagger UI's "Try it out" calls whichever host served the page.
      servers: [{ url: '/', description: 'this gateway' }],
      tags: [
        { name: 'account', description: 'The tenant\'s Fluent account' },
        { name: 'customers', description: 'Fluent customers' },
        { name: 'products', description: 'Fluent products' },
        { name: 'orders', description: 'Fluent orders: create HD and CC orders, read them' },
        { name: 'fulfilments', description: 'Fluent fulfilments, by location' },
        { name: 'locations', description: 'Fluent locations' },
        { name: 'stock', description: 'Stock on hand, where it is available, stock changes (deltas) and whole stock loads (Job API)' },
        { name: 'events', description: 'Fluent events (Event API)' },
        { name: 'graphql', description: 'Your own GraphQL, passed through to Fluent' },
        { name: 'webhooks', description: 'Fluent\'s webhooks: received, stored in your outbox, read and acked (or pushed to you)' },
        { name: 'custom', description: 'Operator-defined routes under /x/, from ROUTES_FILE: each sends one GraphQL document' },
        { name: 'operations', description: 'Health, for operators' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'Your API key, sent as `Authorization: Bearer <API key>`' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Your API key, sent as `X-API-Key: <API key>`' }
        }
      },
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }]
    },
    // Schemas without an $id are named by their registration order, never by anything random, so the document is reproducible.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => typeof json.$id === 'string' ? json.$id : `def-${index}`
    },
    transformObject: (documentObject) => finishDocument(('openapiObject' in documentObject ? documentObject.openapiObject : {}) as OpenApiDocument)
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
