// The schema the Fluent simulator serves: the project's snapshot of Fluent's schema, less any fields a fault removed, with resolvers set.
import { buildSchema, GraphQLError, validateSchema, type GraphQLSchema } from 'graphql'
import { fluentSdl } from '../fluent/schema.js'
import { attachResolvers } from './resolvers.js'

const FIELD_NAME = /^(\w+)\.(\w+)$/
const cache = new Map<string, GraphQLSchema>()

// The snapshot is printed by graphql-js: one field per line, two spaces in, inside `type|interface|input Name ... {`.
function sdlWithout (removed: ReadonlySet<string>): { sdl: string, found: Set<string> } {
  const found = new Set<string>()
  let current: string | undefined
  const lines = fluentSdl().split('\n').filter((line) => {
    const opening = /^(?:type|interface|input|extend type) (\w+)\b.*\{$/.exec(line)
    if (opening !== null) current = opening[1]
    else if (line === '}') current = undefined
    else if (current !== undefined) {
      const field = /^ {2}(\w+)[(:]/.exec(line)
      const name = field === null ? undefined : `${current}.${field[1] ?? ''}`
      if (name !== undefined && removed.has(name)) {
        found.add(name)
        return false
      }
    }
    return true
  })
  return { sdl: lines.join('\n'), found }
}

/** Why a list of `Type.field` names cannot be removed from the served schema, or null when it can. */
export function removedFieldsProblem (names: unknown): string | null {
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string' || !FIELD_NAME.test(name))) {
    return 'removedFields must be an array of "Type.field" names'
  }
  const { sdl, found } = sdlWithout(new Set(names as string[]))
  const unknown = (names as string[]).filter((name) => !found.has(name))
  if (unknown.length > 0) return `removedFields: no field ${unknown.join(', ')} in the schema`
  try {
    const errors = validateSchema(buildSchema(sdl))
    if (errors.length > 0) return `removedFields would leave an invalid schema: ${errors[0]?.message ?? ''}`
  } catch (err) {
    return `removedFields would leave an invalid schema: ${err instanceof GraphQLError ? err.message : String(err)}`
  }
  return null
}

/** The served schema without the given fields; built once per distinct list and kept for the process. */
export function servedSchema (removedFields: readonly string[] = []): GraphQLSchema {
  const key = [...new Set(removedFields)].sort().join('\n')
  let schema = cache.get(key)
  if (schema === undefined) {
    schema = attachResolvers(buildSchema(key === '' ? fluentSdl() : sdlWithout(new Set(removedFields)).sdl))
    cache.set(key, schema)
  }
  return schema
}
