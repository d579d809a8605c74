// The operator routes file (ROUTES_FILE): REST routes under /x/ that each send one GraphQL document, parsed and
// validated against Fluent's schema at boot so a mistake stops the process with the route and the problem named.
import { readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import {
  getNamedType, isCompositeType, isInputType, isListType, isNonNullType, isObjectType, Kind, parse, typeFromAST, validate,
  type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLInputType,
  type GraphQLOutputType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode
} from 'graphql'
import { parse as parseYaml } from 'yaml'
import { builtInDocuments } from '../fluent/documents.js'
import { collectFields, fieldType, inputSchema, isTextInput, selectionContext, valueSchema, type JsonSchema, type SelectionContext } from '../fluent/json-schema.js'
import { fluentSchema } from '../fluent/schema.js'

const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const
const TENANT_SOURCES = ['retailerId', 'catalogueRef', 'inventoryCatalogueRef', 'virtualCatalogueRef'] as const
type TenantSource = typeof TENANT_SOURCES[number]

const RouteEntrySchema = Type.Object({
  // Also the metric label and the drift key: the same characters a Prometheus label value of an operation may hold.
  operationId: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }),
  method: Type.Union(ROUTE_METHODS.map((method) => Type.Literal(method))),
  path: Type.String({ minLength: 1 }),
  summary: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  document: Type.String({ minLength: 1 }),
  variables: Type.Optional(Type.Record(Type.String(), Type.String())),
  result: Type.Optional(Type.String({ minLength: 1 })),
  paginate: Type.Optional(Type.Boolean()),
  status: Type.Optional(Type.Integer({ minimum: 200, maximum: 299 })),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1 })))
}, { additionalProperties: false })

const RoutesFileSchema = Type.Object({
  routes: Type.Array(RouteEntrySchema)
}, { additionalProperties: false })

export type RouteEntry = Static<typeof RouteEntrySchema>

/** Where one GraphQL variable's value comes from on each request. */
export type VariableSource =
  | { from: 'path' | 'query' | 'bodyField', name: string }
  | { from: 'body' }
  | { from: 'tenant', name: TenantSource }
  | { from: 'page', name: 'first' | 'after' }

export interface RouteVariable {
  variable: string
  source: VariableSource
  /** The GraphQL type as written, e.g. `[String!]`: text from the path or tenant is converted by it. */
  type: string
}

/** A validated operator route, ready to register. */
export interface OperatorRoute {
  operationId: string
  method: typeof ROUTE_METHODS[number]
  /** As in the file (`/x/locations/{ref}/stock`) and as Fastify writes it (`/x/locations/:ref/stock`). */
  path: string
  url: string
  summary: string
  description?: string
  document: string
  /** The operation's own name, sent as operationName (undefined when anonymous). */
  operationName?: string
  kind: 'query' | 'mutation'
  variables: RouteVariable[]
  /** Response keys from `data` down to the answer; empty: the whole of data. */
  result: string[]
  paginate: boolean
  status: number
  tags: string[]
  /** Query parameters that are lists: a comma list (`a,b,c`) is split before validation. */
  listQuery: string[]
  /** Path parameters that are lists, split the same way. */
  listPath: string[]
  schemas: { params?: JsonSchema, querystring?: JsonSchema, body?: JsonSchema, response: JsonSchema }
}

const PATH = /^\/x(\/([A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\}))+$/
const SOURCE = /^(path|query|body|tenant)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$/

class RouteProblem extends Error {}

function fail (message: string): never {
  throw new RouteProblem(message)
}

interface Walked {
  type: GraphQLOutputType
  nodes: FieldNode[]
}

/** Follows `result` through the selection, by response keys; fails naming the first key the selection does not hold. */
function walkResult (keys: string[], operation: OperationDefinitionNode, root: GraphQLCompositeType, context: SelectionContext): Walked | undefined {
  let parent: GraphQLCompositeType = root
  let sets: SelectionSetNode[] = [operation.selectionSet]
  let walked: Walked | undefined
  for (const [index, key] of keys.entries()) {
    const fields = new Map<string, { nodes: FieldNode[], optional: boolean }>()
    for (const set of sets) collectFields(set, parent, context, false, fields, new Set())
    const entry = fields.get(key)
    const where = index === 0 ? 'data' : keys.slice(0, index).join('.')
    if (entry === undefined) fail(`result '${keys.join('.')}': the selection has no '${key}' under ${where}`)
    const type = fieldType(parent, entry.nodes[0]?.name.value ?? key, context)
    if (type === undefined) fail(`result '${keys.join('.')}': '${key}' is not a field of ${parent.name}`)
    walked = { type, nodes: entry.nodes }
    if (index < keys.length - 1) {
      const inner = isNonNullType(type) ? type.ofType : type
      if (isListType(inner)) fail(`result '${keys.join('.')}': '${key}' is a list; a result path cannot go through a list`)
      const named = getNamedType(type)
      if (!isCompositeType(named)) fail(`result '${keys.join('.')}': '${key}' is a ${named.name}, which has no fields`)
      parent = named
      sets = entry.nodes.flatMap((node) => node.selectionSet === undefined ? [] : [node.selectionSet])
    }
  }
  return walked
}

/** The connection's parts a page is made of: the edges' `cursor` and `node`, and `pageInfo.hasNextPage` when selected. */
function connectionItems (walked: Walked, context: SelectionContext, result: string): { itemSchema: JsonSchema } {
  const named = getNamedType(walked.type)
  const edgesField = isObjectType(named) ? named.getFields().edges : undefined
  const edgeType = edgesField === undefined ? undefined : getNamedType(edgesField.type)
  if (!isObjectType(named) || edgesField === undefined || !isListType(isNonNullType(edgesField.type) ? edgesField.type.ofType : edgesField.type) ||
    !isObjectType(edgeType) || edgeType.getFields().node === undefined) {
    fail(`paginate: result '${result}' is a ${String(walked.type)}, not a connection (edges { cursor node })`)
  }
  const fields = new Map<string, { nodes: FieldNode[], optional: boolean }>()
  for (const node of walked.nodes) if (node.selectionSet !== undefined) collectFields(node.selectionSet, named, context, false, fields, new Set())
  const edges = fields.get('edges')
  if (edges === undefined) fail(`paginate: the selection of '${result}' has no edges { cursor node { ... } }`)
  const edgeFields = new Map<string, { nodes: FieldNode[], optional: boolean }>()
  for (const node of edges.nodes) if (node.selectionSet !== undefined) collectFields(node.selectionSet, edgeType, context, false, edgeFields, new Set())
  const node = edgeFields.get('node')
  if (node === undefined || edgeFields.get('cursor') === undefined) fail(`paginate: the selection of '${result}.edges' needs both cursor and node`)
  const nodeType = edgeType.getFields().node?.type as GraphQLOutputType
  return { itemSchema: valueSchema(nodeType, node.nodes, `one ${getNamedType(nodeType).name}`, context) }
}

/** The variable a root field's argument is bound to (`first: $first`), if it is bound to one. */
function argumentVariable (nodes: FieldNode[], argument: string): string | undefined {
  for (const node of nodes) {
    const value = node.arguments?.find((candidate) => candidate.name.value === argument)?.value
    if (value?.kind === Kind.VARIABLE) return value.name.value
  }
  return undefined
}

function pageSchema (itemSchema: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      items: { type: 'array', items: itemSchema, description: 'the items on this page', examples: [[itemSchema.examples === undefined ? {} : (itemSchema.examples as unknown[])[0]]] },
      nextCursor: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'pass as cursor to get the next page; null on the last page', examples: ['Y3Vyc29yOjEwMjA='] }
    },
    required: ['items', 'nextCursor'],
    description: 'A page of items'
  }
}

/** Validates one entry and turns it into a route; throws a RouteProblem naming what is wrong. */
function buildRoute (entry: RouteEntry, schema: GraphQLSchema): OperatorRoute {
  if (!PATH.test(entry.path)) fail(`path '${entry.path}' must be under /x/, with segments of letters, digits, ._~- or {name}`)
  const pathParams = [...entry.path.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] as string)
  if (new Set(pathParams).size !== pathParams.length) fail(`path '${entry.path}' names a parameter twice`)

  let document: DocumentNode
  try {
    document = parse(entry.document, { noLocation: true })
  } catch (error) {
    fail(`document does not parse: ${(error as Error).message}`)
  }
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)
  if (operations.length !== 1) fail(`document must hold exactly one operation; it holds ${operations.length}`)
  const operation = operations[0] as OperationDefinitionNode
  if (operation.operation === 'subscription') fail('document is a subscription; only queries and mutations can be routes')
  const errors = validate(schema, document)
  if (errors.length > 0) fail(`document does not validate against Fluent's schema: ${errors.map((error) => error.message).join('; ')}`)

  const root = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType()
  if (root === null || root === undefined) fail(`Fluent's schema has no ${operation.operation} type`)
  const fragments = document.definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
  const context = selectionContext(schema, fragments)
  const result = entry.result === undefined ? [] : entry.result.split('.')
  if (result.some((key) => key === '')) fail(`result '${entry.result ?? ''}' is not a dotted path`)
  const walked = result.length === 0 ? undefined : walkResult(result, operation, root, context)
  const paginate = entry.paginate === true
  if (paginate && walked === undefined) fail('paginate needs a result: the connection to page through')

  // Variables: each has a source, each source names a variable.
  const definitions = new Map((operation.variableDefinitions ?? []).map((definition) => {
    const type = typeFromAST(schema, definition.type as never) as GraphQLInputType | undefined
    if (type === undefined || !isInputType(type)) fail(`variable $${definition.variable.name.value} has an unknown type`)
    return [definition.variable.name.value, { type, required: isNonNullType(type) && definition.defaultValue === undefined }] as const
  }))
  const given = entry.variables ?? {}
  const pageVariables = new Map<string, 'first' | 'after'>()
  // Checked before its paging variables, so a non-connection is named as such.
  const page = paginate && walked !== undefined ? connectionItems(walked, context, entry.result ?? '') : undefined
  if (paginate && walked !== undefined) {
    for (const argument of ['first', 'after'] as const) {
      const variable = argumentVariable(walked.nodes, argument)
      if (variable === undefined) fail(`paginate: '${entry.result ?? ''}' needs its ${argument} argument bound to a variable (${argument}: $${argument})`)
      if (given[variable] !== undefined) fail(`variables: $${variable} is set by paging (${argument === 'first' ? 'limit' : 'cursor'}); give it no source`)
      pageVariables.set(variable, argument)
    }
  }
  const variables: RouteVariable[] = []
  for (const [variable, text] of Object.entries(given)) {
    if (!definitions.has(variable)) fail(`variables: '${variable}' is not a variable of the document`)
    const match = SOURCE.exec(text)
    const kind = match?.[1]
    const name = match?.[2]
    let source: VariableSource
    if (kind === 'body' && name === undefined) source = { from: 'body' }
    else if (kind === 'body' && name !== undefined) source = { from: 'bodyField', name }
    else if ((kind === 'path' || kind === 'query') && name !== undefined) source = { from: kind, name }
    else if (kind === 'tenant' && (TENANT_SOURCES as readonly string[]).includes(name ?? '')) source = { from: 'tenant', name: name as TenantSource }
    else fail(`variables: '${variable}' has an unknown source '${text}' (path.X, query.X, body, body.X, tenant.${TENANT_SOURCES.join(', tenant.')})`)
    variables.push({ variable, source, type: String((definitions.get(variable) as { type: GraphQLInputType }).type) })
  }
  for (const [variable, argument] of pageVariables) variables.push({ variable, source: { from: 'page', name: argument }, type: String((definitions.get(variable) as { type: GraphQLInputType }).type) })
  for (const variable of definitions.keys()) {
    if (!variables.some((candidate) => candidate.variable === variable)) fail(`variables: $${variable} has no source`)
  }

  // Parameters and body, typed from the variables.
  const params: Record<string, JsonSchema> = {}
  const query: Record<string, JsonSchema> = {}
  const queryRequired: string[] = []
  const bodyFields: Record<string, JsonSchema> = {}
  const bodyRequired: string[] = []
  let wholeBody: JsonSchema | undefined
  const listQuery: string[] = []
  const listPath: string[] = []
  for (const { variable, source } of variables) {
    const { type, required } = definitions.get(variable) as { type: GraphQLInputType, required: boolean }
    if (source.from === 'path') {
      if (!pathParams.includes(source.name)) fail(`variables: $${variable} comes from path.${source.name}, but the path has no {${source.name}}`)
      if (!isTextInput(type)) fail(`variables: $${variable} is a ${String(type)}, which a path cannot hold; take it from the body`)
      params[source.name] = inputSchema(type, `${String(type)} from the path${isListType(isNonNullType(type) ? type.ofType : type) ? ', a comma list' : ''} (variable $${variable})`)
      if (isListType(isNonNullType(type) ? type.ofType : type)) listPath.push(source.name)
    } else if (source.from === 'query') {
      if (source.name === 'limit' || source.name === 'cursor') {
        if (paginate) fail(`variables: query.${source.name} is the paging parameter of this route; name it otherwise`)
      }
      if (!isTextInput(type)) fail(`variables: $${variable} is a ${String(type)}, which a query string cannot hold; take it from the body`)
      query[source.name] = inputSchema(type, `${String(type)} from the query string${isListType(isNonNullType(type) ? type.ofType : type) ? ', a comma list' : ''} (variable $${variable})`)
      if (isListType(isNonNullType(type) ? type.ofType : type)) listQuery.push(source.name)
      if (required) queryRequired.push(source.name)
    } else if (source.from === 'body' || source.from === 'bodyField') {
      if (entry.method === 'GET' || entry.method === 'DELETE') fail(`variables: $${variable} comes from the body, but a ${entry.method} has none`)
      if (source.from === 'body') {
        if (wholeBody !== undefined) fail('variables: only one variable can be the whole body')
        wholeBody = inputSchema(type, `the ${String(type)} sent as $${variable}`)
      } else {
        bodyFields[source.name] = inputSchema(type, `${String(type)} (variable $${variable})`)
        if (required) bodyRequired.push(source.name)
      }
    }
  }
  if (wholeBody !== undefined && Object.keys(bodyFields).length > 0) fail('variables: a route takes either the whole body (body) or fields of it (body.X), not both')
  for (const param of pathParams) {
    if (params[param] === undefined) fail(`path parameter {${param}} is not used by any variable (path.${param})`)
  }
  if (paginate) {
    query.limit = { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'page size, 1 to 100', examples: [20] }
    query.cursor = { type: 'string', minLength: 1, maxLength: 512, description: 'opaque cursor from nextCursor of the previous page; leave out for the first page' }
  }

  let response: JsonSchema
  if (walked === undefined) {
    response = valueSchemaOfData(operation, root, context)
  } else if (page !== undefined) {
    response = pageSchema(page.itemSchema)
  } else {
    response = valueSchema(walked.type, walked.nodes, `${entry.result ?? ''}: ${String(walked.type)}`, context)
  }

  const body = wholeBody ?? (Object.keys(bodyFields).length === 0
    ? undefined
    : { type: 'object', properties: bodyFields, ...(bodyRequired.length === 0 ? {} : { required: bodyRequired }), additionalProperties: false, description: `the variables of ${entry.operationId}` })
  return {
    operationId: entry.operationId,
    method: entry.method,
    path: entry.path,
    url: entry.path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1'),
    summary: entry.summary,
    ...(entry.description === undefined ? {} : { description: entry.description }),
    document: entry.document,
    ...(operation.name === undefined ? {} : { operationName: operation.name.value }),
    kind: operation.operation === 'mutation' ? 'mutation' : 'query',
    variables,
    result,
    paginate,
    status: entry.status ?? 200,
    tags: entry.tags ?? [],
    listQuery,
    listPath,
    schemas: {
      ...(Object.keys(params).length === 0 ? {} : { params: { type: 'object', properties: params, required: Object.keys(params), additionalProperties: false } }),
      ...(Object.keys(query).length === 0 ? {} : { querystring: { type: 'object', properties: query, ...(queryRequired.length === 0 ? {} : { required: queryRequired }), additionalProperties: false } }),
      ...(body === undefined ? {} : { body }),
      response
    }
  }
}

function valueSchemaOfData (operation: OperationDefinitionNode, root: GraphQLCompositeType, context: SelectionContext): JsonSchema {
  // The whole of data: an object of the root fields, as an answer of `root` with the operation's selection.
  return valueSchema(root as GraphQLOutputType, [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: 'data' }, selectionSet: operation.selectionSet }], `the data of ${operation.name?.value ?? 'the operation'}`, context)
}

export interface RoutesCheck {
  routes: OperatorRoute[]
  /** One line per problem, each naming the route. */
  problems: string[]
}

/** Validates a routes file's content against `schema` (the bundled one by default), collecting every problem. */
export function checkRoutes (raw: unknown, schema: GraphQLSchema = fluentSchema()): RoutesCheck {
  const shape = [...Value.Errors(RoutesFileSchema, raw)].map((error) => {
    const parts = error.path.split('/').filter((part) => part !== '')
    const entry = parts[0] === 'routes' && parts[1] !== undefined ? (raw as { routes: Array<{ operationId?: unknown }> }).routes[Number(parts[1])] : undefined
    const who = typeof entry?.operationId === 'string' ? `route '${entry.operationId}'` : parts[1] === undefined ? 'routes file' : `routes[${parts[1]}]`
    const field = parts.slice(2).join('.')
    return `${who}: ${field === '' ? '' : `${field} `}${error.message}`
  })
  if (shape.length > 0) return { routes: [], problems: [...new Set(shape)] }

  const file = raw as Static<typeof RoutesFileSchema>
  const routes: OperatorRoute[] = []
  const problems: string[] = []
  const ids = new Set<string>()
  const builtIn = new Set(builtInDocuments().map((document) => document.name))
  const endpoints = new Map<string, string>()
  for (const entry of file.routes) {
    const who = `route '${entry.operationId}'`
    if (ids.has(entry.operationId)) {
      problems.push(`${who}: operationId appears twice`)
      continue
    }
    ids.add(entry.operationId)
    if (builtIn.has(entry.operationId)) {
      problems.push(`${who}: operationId is the name of a built-in operation; choose another`)
      continue
    }
    const endpoint = `${entry.method} ${entry.path.replace(/\{[^}]*\}/g, '{}')}`
    const other = endpoints.get(endpoint)
    if (other !== undefined) {
      problems.push(`${who}: ${entry.method} ${entry.path} is already route '${other}'`)
      continue
    }
    endpoints.set(endpoint, entry.operationId)
    try {
      routes.push(buildRoute(entry, schema))
    } catch (error) {
      if (!(error instanceof RouteProblem)) throw error
      problems.push(`${who}: ${error.message}`)
    }
  }
  return { routes, problems }
}

/** Validated routes from parsed content; throws one Error listing every problem. */
export function parseRoutes (raw: unknown, schema: GraphQLSchema = fluentSchema()): OperatorRoute[] {
  const { routes, problems } = checkRoutes(raw, schema)
  if (problems.length > 0) throw new Error(`routes file is invalid:\n  ${problems.join('\n  ')}`)
  return routes
}

/** Reads the YAML (or JSON) text of ROUTES_FILE; throws naming the file when it cannot be read or parsed. */
export function readRoutesFile (path: string): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`ROUTES_FILE: cannot read ${path}: ${(error as Error).message}`)
  }
  try {
    return parseYaml(text) as unknown
  } catch (error) {
    throw new Error(`ROUTES_FILE: ${path} is not valid YAML: ${(error as Error).message}`)
  }
}

/** Reads and validates ROUTES_FILE against the bundled schema. */
export function loadRoutesFile (path: string): OperatorRoute[] {
  return parseRoutes(readRoutesFile(path))
}
