// Walking an OpenAPI schema in tests: every place a field is described.
type Json = Record<string, unknown>

/**
 * Every place a field is described: [where, schema] for each property of each object schema, each array item,
 * each anyOf/oneOf/allOf branch, found by walking down from `schema`.
 */
export function propertiesOf (schema: unknown, where: string): Array<[string, Json]> {
  if (schema === null || typeof schema !== 'object') return []
  const node = schema as Json
  const found: Array<[string, Json]> = []
  for (const [name, property] of Object.entries((node.properties ?? {}) as Record<string, Json>)) {
    found.push([`${where}.${name}`, property], ...propertiesOf(property, `${where}.${name}`))
  }
  if (node.items !== undefined) found.push(...propertiesOf(node.items, `${where}[]`))
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    for (const [index, branch] of ((node[key] ?? []) as Json[]).entries()) found.push(...propertiesOf(branch, `${where}/${key}${index}`))
  }
  return found
}
