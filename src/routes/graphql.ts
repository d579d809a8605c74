// POST /graphql: the caller's own document, checked against the limits, sent as is; Fluent's 200 body comes back untouched.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { checkDocument, DOCUMENT_LIMITS } from './graphql-policy.js'
import { problemResponses } from '../schemas/problem.js'

const GraphqlBodySchema = Type.Object({
  query: Type.String({ minLength: 1, description: `a GraphQL document of at most ${DOCUMENT_LIMITS.maxBytes / 1024} KB`, examples: ['query Me { me { id username } }'] }),
  variables: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'variables of the operation', examples: [{}] })),
  operationName: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Null()], { description: 'which operation to run when the document holds several', examples: ['Me'] })),
  extensions: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'accepted for client compatibility; not forwarded', examples: [{}] }))
}, { additionalProperties: false, description: 'One GraphQL operation (batched arrays are refused)' })

const graphqlRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/graphql', {
    schema: {
      tags: ['graphql'],
      operationId: 'runGraphql',
      summary: 'Run a GraphQL operation against Fluent',
      description: `Passthrough with the tenant's token. Refused before any call to Fluent: documents over ${DOCUMENT_LIMITS.maxBytes / 1024} KB (413), ` +
        `that do not parse, hold several operations without operationName, nest deeper than ${DOCUMENT_LIMITS.maxDepth}, use more than ` +
        `${DOCUMENT_LIMITS.maxAliases} aliases or ${DOCUMENT_LIMITS.maxTokens} tokens (400), and mutations for tenants with allowMutations: false (403). ` +
        'Fluent\'s 200 answer, errors[] included, is returned as it came.',
      body: GraphqlBodySchema,
      response: {
        200: {
          description: 'Fluent\'s GraphQL answer, as it came',
          content: { 'application/json': { schema: Type.Object({}, { additionalProperties: true, examples: [{ data: { me: { id: '5', username: 'acme_integration' } } }] }) } }
        },
        ...problemResponses(400, 401, 403, 413, 415, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { query, variables, operationName } = request.body
    const checked = checkDocument(query, operationName ?? undefined, request.tenant.graphql.allowMutations)
    const answer = await request.fluent.execute({ query, variables: variables ?? undefined, operationName: checked.operationName, kind: checked.kind })
    // Sent as the raw text so Fluent's body reaches the caller byte for byte, without a parse-serialize round.
    return await reply.type('application/json; charset=utf-8').serializer((payload) => payload as string).send(answer.text)
  })
}

export default graphqlRoutes
