// Operator routes (ROUTES_FILE): each sends its GraphQL document through request.fluent like any built-in route, with
// parameters typed from its variables, its answer taken from `result` (null: 404), connections paged with limit/cursor.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { inventoryCatalogueRef, virtualCatalogueRef, type Tenant } from '../config/tenants.js'
import type { OperatorRoute, RouteVariable } from '../config/routes.js'
import { ForbiddenError, NotFoundError } from '../errors.js'
import { problemResponses } from '../schemas/problem.js'

type Json = Record<string, unknown>

function tenantValue (tenant: Tenant, name: string): string | undefined {
  switch (name) {
    case 'retailerId': return tenant.fluent.retailerId
    case 'catalogueRef': return tenant.fluent.catalogueRef
    case 'inventoryCatalogueRef': return inventoryCatalogueRef(tenant)
    case 'virtualCatalogueRef': return virtualCatalogueRef(tenant)
    default: return undefined
  }
}

/** A tenant's text value in the variable's GraphQL type: `Int` → 1, `[String]` → ['x']. */
function converted (text: string, type: string): unknown {
  const bare = type.replace(/!$/, '')
  if (bare.startsWith('[')) return [converted(text, bare.slice(1, -1))]
  if (bare === 'Int' || bare === 'Float') return Number(text)
  if (bare === 'Boolean') return text === 'true'
  return text
}

/** The variables of one request, from its validated path, query and body; values not given are left out. */
function variablesOf (route: OperatorRoute, request: FastifyRequest): Json {
  const params = (request.params ?? {}) as Json
  const query = (request.query ?? {}) as Json
  const body = request.body as unknown
  const variables: Json = {}
  const set = (variable: RouteVariable, value: unknown): void => { if (value !== undefined) variables[variable.variable] = value }
  for (const variable of route.variables) {
    const { source } = variable
    switch (source.from) {
      case 'path': set(variable, params[source.name]); break
      case 'query': set(variable, query[source.name]); break
      case 'body': set(variable, body); break
      case 'bodyField': set(variable, (body as Json | undefined)?.[source.name]); break
      case 'page': set(variable, source.name === 'first' ? query.limit : query.cursor); break
      case 'tenant': {
        const value = tenantValue(request.tenant, source.name)
        set(variable, value === undefined ? undefined : converted(value, variable.type))
      }
    }
  }
  return variables
}

interface Edge { cursor?: unknown, node?: unknown }

/** A page from a connection: the next cursor is the last edge's when Fluent says there is more (or, without pageInfo, the page is full). */
function pageOf (connection: Json, limit: number): { items: unknown[], nextCursor: string | null } {
  const edges = ((connection.edges ?? []) as Array<Edge | null>).filter((edge) => edge?.node !== undefined && edge?.node !== null) as Edge[]
  const pageInfo = connection.pageInfo as { hasNextPage?: unknown } | null | undefined
  const more = pageInfo?.hasNextPage === undefined ? edges.length >= limit : pageInfo.hasNextPage === true
  const last = edges.at(-1)?.cursor
  return { items: edges.map((edge) => edge.node), nextCursor: more && typeof last === 'string' ? last : null }
}

/** Splits comma lists (`a,b,c`, or repeated parameters holding them) before validation types their items. */
function splitLists (values: Json, names: string[]): void {
  for (const name of names) {
    const value = values[name]
    if (typeof value === 'string') values[name] = value.split(',')
    else if (Array.isArray(value)) values[name] = value.flatMap((item) => typeof item === 'string' ? item.split(',') : [item])
  }
}

function problemStatuses (route: OperatorRoute): number[] {
  const body = route.schemas.body === undefined ? [] : [413, 415]
  return [400, 401, 403, 404, ...body, 422, 429, 502, 503, 504]
}

const customRoutes: FastifyPluginAsync<{ routes: OperatorRoute[] }> = async (app, opts) => {
  for (const route of opts.routes) {
    const { params, querystring, body, response } = route.schemas
    // The idempotency plugin opts mutation routes in by this marker; without it the marker does nothing.
    const config: Record<string, unknown> = route.kind === 'mutation' ? { idempotency: {} } : {}
    app.route({
      method: route.method,
      url: route.url,
      config,
      schema: {
        tags: ['custom', ...route.tags.filter((tag) => tag !== 'custom')],
        operationId: route.operationId,
        summary: route.summary,
        description: route.description ?? `Operator route from ROUTES_FILE: sends Fluent ${route.operationName ?? 'an anonymous'} ${route.kind}` +
          `${route.result.length === 0 ? '' : ` and answers its \`${route.result.join('.')}\` (404 when that is null)`}` +
          `${route.paginate ? '; pages hold `limit` items: follow `nextCursor` (or the Link rel="next" header)' : ''}` +
          `${route.kind === 'mutation' ? '; refused (403) for tenants with allowMutations: false' : ''}.`,
        ...(params === undefined ? {} : { params }),
        ...(querystring === undefined ? {} : { querystring }),
        ...(body === undefined ? {} : { body }),
        response: {
          [route.status]: {
            ...response,
            description: route.paginate ? 'A page of items' : route.summary,
            ...(route.paginate ? { headers: { link: { type: 'string', description: 'the next page, when there is one', examples: [`<${route.path}?limit=20&cursor=Y3Vyc29yOjEwMjA%3D>; rel="next"`] } } } : {})
          },
          ...problemResponses(...problemStatuses(route))
        }
      },
      preValidation: async (request) => {
        if (route.listQuery.length > 0 && request.query !== null && typeof request.query === 'object') splitLists(request.query as Json, route.listQuery)
        if (route.listPath.length > 0 && request.params !== null && typeof request.params === 'object') splitLists(request.params as Json, route.listPath)
      },
      handler: async (request, reply) => {
        if (route.kind === 'mutation' && !request.tenant.graphql.allowMutations) {
          throw new ForbiddenError(`this tenant may not run mutations: ${route.method} ${route.path} sends one`)
        }
        const data = await request.fluent.data<Json>({
          query: route.document,
          variables: variablesOf(route, request),
          operationName: route.operationName,
          operation: route.operationId,
          kind: route.kind
        })
        let value: unknown = data
        for (const key of route.result) value = (value as Json | null | undefined)?.[key]
        if (value === null || value === undefined) throw new NotFoundError(`Fluent has no ${route.result.join('.')} for this request`)
        reply.code(route.status)
        if (!route.paginate) return value
        const query = request.query as Json
        const page = pageOf(value as Json, query.limit as number)
        if (page.nextCursor !== null) {
          const next = new URLSearchParams()
          for (const [name, item] of Object.entries(query)) {
            if (name !== 'cursor' && item !== undefined) next.set(name, Array.isArray(item) ? item.join(',') : String(item))
          }
          next.set('cursor', page.nextCursor)
          reply.header('link', `<${request.url.split('?')[0] ?? route.path}?${next.toString()}>; rel="next"`)
        }
        return page
      }
    })
  }
}

export default customRoutes
