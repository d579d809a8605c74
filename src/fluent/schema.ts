// Fluent's GraphQL schema as the project keeps it: a facts-only SDL snapshot (schema/fluent.graphql), built once on first use.
import { readFileSync } from 'node:fs'
import { buildClientSchema, buildSchema, DEFAULT_DEPRECATION_REASON, printSchema, type GraphQLSchema, type IntrospectionQuery } from 'graphql'

// From src/fluent/ and from dist/fluent/ alike, two levels up is the package root, where schema/ sits.
const SNAPSHOT_URL = new URL('../../schema/fluent.graphql', import.meta.url)

let sdl: string | undefined
let schema: GraphQLSchema | undefined

/** The snapshot's SDL text. */
export function fluentSdl (): string {
  sdl ??= readFileSync(SNAPSHOT_URL, 'utf8')
  return sdl
}

/** Fluent's schema (release of the snapshot), built once per process. */
export function fluentSchema (): GraphQLSchema {
  schema ??= buildSchema(fluentSdl())
  return schema
}

// Descriptions and deprecation reasons are Fluent's prose; only whether a field is deprecated is a fact.
function stripProse (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripProse)
  if (typeof value !== 'object' || value === null) return value
  const copy: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (key === 'description') copy[key] = null
    // graphql-js's own default reason prints as a bare @deprecated.
    else if (key === 'deprecationReason') copy[key] = item == null ? null : DEFAULT_DEPRECATION_REASON
    else copy[key] = stripProse(item)
  }
  return copy
}

/** Prints an introspection result (`{data: {__schema}}` or `{__schema}`) as SDL without descriptions or deprecation reasons. */
export function factsOnlySdl (introspection: unknown): string {
  const body = introspection as { data?: IntrospectionQuery } & Partial<IntrospectionQuery>
  const data = body.data ?? body
  if (data.__schema === undefined) throw new Error('not an introspection result: no __schema')
  return printSchema(buildClientSchema(stripProse(data) as IntrospectionQuery)) + '\n'
}
