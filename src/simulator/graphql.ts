// GraphQL side of the Fluent simulator: parses, validates and executes one request body against the served schema.
import { execute, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql'
import type { SimulatorStore } from './store.js'
import type { SimulatorAccount } from './types.js'

export interface GraphqlRequestBody {
  query: string
  variables?: Record<string, unknown> | null
  operationName?: string | null
}

export interface GraphqlAnswer {
  status: number
  body: unknown
}

/** Reads {query, variables, operationName} from a parsed JSON body, or says why it cannot. */
export function readGraphqlBody (json: unknown): GraphqlRequestBody | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'Request body must be a JSON object'
  const { query, variables, operationName } = json as Record<string, unknown>
  if (typeof query !== 'string') return 'Must provide query string.'
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return 'Variables must be an object'
  if (operationName != null && typeof operationName !== 'string') return 'operationName must be a string'
  return {
    query,
    variables: variables as Record<string, unknown> | null | undefined,
    operationName: operationName as string | null | undefined
  }
}

// Like Fluent (a graphql-java server), syntax and validation errors come back as HTTP 200 with errors[].
export async function runGraphql (
  schema: GraphQLSchema, request: GraphqlRequestBody, store: SimulatorStore, account: SimulatorAccount
): Promise<GraphqlAnswer> {
  let document: DocumentNode
  try {
    document = parse(request.query)
  } catch (err) {
    if (err instanceof GraphQLError) return { status: 200, body: { errors: [err.toJSON()] } }
    throw err
  }
  const validationErrors = validate(schema, document)
  if (validationErrors.length > 0) {
    return { status: 200, body: { errors: validationErrors.map((error) => error.toJSON()) } }
  }
  const result = await execute({
    schema,
    document,
    contextValue: { store, account },
    variableValues: request.variables ?? undefined,
    operationName: request.operationName ?? undefined
  })
  return { status: 200, body: result }
}
