// `npm run routes:check [-- --live]`: validates ROUTES_FILE and every built-in document against the bundled schema or,
// with --live, against each tenant's introspected schema (TENANTS_FILE); one line per problem, exit 1 on any.
import { pathToFileURL } from 'node:url'
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema, type IntrospectionQuery } from 'graphql'
import { buildApp } from '../app.js'
import { loadEnv } from '../config/env.js'
import { checkRoutes, readRoutesFile } from '../config/routes.js'
import { loadTenantsFile } from '../config/tenants.js'
import { builtInDocuments, documentProblems } from '../fluent/documents.js'
import { fluentSchema } from '../fluent/schema.js'

/** Every problem of the built-in documents and the routes file (when given) against one schema. */
function problemsAgainst (schema: GraphQLSchema, routesFile: unknown): string[] {
  const problems: string[] = []
  for (const { name, document } of builtInDocuments()) {
    for (const problem of documentProblems(schema, document)) problems.push(`built-in ${name}: ${problem}`)
  }
  if (routesFile !== undefined) problems.push(...checkRoutes(routesFile, schema).problems)
  return problems
}

/** Runs the check; answers the lines to print and the exit code. */
export async function routesCheck (argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ lines: string[], code: number }> {
  const live = argv.includes('--live')
  let routesFile: unknown
  try {
    const parsed = loadEnv({ ...env, LOG_LEVEL: 'silent', SCHEMA_CHECK_INTERVAL_MS: '0' }, { tenantsGiven: !live })
    routesFile = parsed.ROUTES_FILE === undefined ? undefined : readRoutesFile(parsed.ROUTES_FILE)
    if (!live) {
      const problems = problemsAgainst(fluentSchema(), routesFile)
      return { lines: problems.length === 0 ? [`ok: ${what(routesFile)} validate against the bundled schema`] : problems, code: problems.length === 0 ? 0 : 1 }
    }
    const tenants = loadTenantsFile(parsed.TENANTS_FILE as string, env)
    // The gateway's own client (tokens, deadline, retries), without Redis or a listener.
    const app = await buildApp({ ...parsed, REDIS_URL: undefined, redis: undefined, tenants, routes: [] })
    const lines: string[] = []
    let failed = false
    try {
      for (const tenant of tenants) {
        let schema: GraphQLSchema
        try {
          const data = await app.fluentClient.data<IntrospectionQuery>(tenant,
            { query: getIntrospectionQuery(), operationName: 'IntrospectionQuery', kind: 'query' }, { requestId: 'routes-check' })
          schema = buildClientSchema(data)
        } catch (error) {
          failed = true
          lines.push(`tenant '${tenant.id}': cannot introspect Fluent: ${(error as Error).message}`)
          continue
        }
        const problems = problemsAgainst(schema, routesFile)
        if (problems.length > 0) failed = true
        lines.push(...(problems.length === 0 ? [`tenant '${tenant.id}': ok: ${what(routesFile)} validate`] : problems.map((problem) => `tenant '${tenant.id}': ${problem}`)))
      }
    } finally {
      await app.close()
    }
    return { lines, code: failed ? 1 : 0 }
  } catch (error) {
    return { lines: [(error as Error).message], code: 1 }
  }
}

function what (routesFile: unknown): string {
  return routesFile === undefined ? 'the built-in documents (no ROUTES_FILE)' : 'ROUTES_FILE and the built-in documents'
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { lines, code } = await routesCheck(process.argv.slice(2))
  for (const line of lines) (code === 0 ? console.log : console.error)(line)
  process.exitCode = code
}
