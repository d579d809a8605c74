// JSON Schemas from GraphQL types: request schemas from variable types (what ajv validates and /docs shows) and
// response schemas from selection sets; each property with a description and an example, as the house documents itself.
import {
  getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isAbstractType,
  Kind,
  type FieldNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLInputType, type GraphQLNamedType, type GraphQLOutputType,
  type GraphQLSchema, type SelectionSetNode
} from 'graphql'

export type JsonSchema = Record<string, unknown>

/** Input objects nest (and recurse); past this depth a value is accepted as any JSON and left to Fluent. */
export const INPUT_DEPTH_LIMIT = 6

const INT32 = { minimum: -2147483648, maximum: 2147483647 }

/** A plausible value of a scalar or enum, for examples. */
function scalarExample (type: GraphQLNamedType): unknown {
  if (isEnumType(type)) return type.getValues()[0]?.value ?? 'VALUE'
  switch (type.name) {
    case 'Int': return 1
    case 'Float': return 1.5
    case 'Boolean': return true
    case 'ID': return '1'
    case 'DateTime': return '2026-01-05T00:00:00.000Z'
    case 'Json': return { key: 'value' }
    default: return 'text'
  }
}

/** The JSON Schema of a scalar or enum (no description, no example). */
function scalarSchema (type: GraphQLNamedType): JsonSchema {
  if (isEnumType(type)) return { type: 'string', enum: type.getValues().map((value) => value.name) }
  switch (type.name) {
    case 'Int': return { type: 'integer', ...INT32 }
    case 'Float': return { type: 'number' }
    case 'Boolean': return { type: 'boolean' }
    case 'String': case 'ID': return { type: 'string' }
    case 'DateTime': return { type: 'string', format: 'date-time' }
    // Json, and any scalar Fluent adds later: whatever JSON the caller sends goes to Fluent as it came.
    default: return {}
  }
}

/** An example of a value of an input type: required fields only for input objects, one item for lists. */
export function inputExample (type: GraphQLInputType, depth = 0): unknown {
  const inner = isNonNullType(type) ? type.ofType : type
  if (isListType(inner)) return [inputExample(inner.ofType, depth)]
  if (isInputObjectType(inner)) {
    if (depth >= INPUT_DEPTH_LIMIT) return {}
    return Object.fromEntries(Object.values(inner.getFields())
      .filter((field) => isNonNullType(field.type) && field.defaultValue === undefined)
      .map((field) => [field.name, inputExample(field.type, depth + 1)]))
  }
  return scalarExample(inner)
}

/** The JSON Schema a value of `type` must match, with `description` on it; input objects strictly (no unknown keys). */
export function inputSchema (type: GraphQLInputType, description: string, depth = 0): JsonSchema {
  const inner = isNonNullType(type) ? type.ofType : type
  const example = inputExample(inner, depth)
  if (isListType(inner)) {
    return { type: 'array', items: inputSchema(inner.ofType, `one ${String(inner.ofType)}`, depth), description, examples: [example] }
  }
  if (isInputObjectType(inner)) {
    if (depth >= INPUT_DEPTH_LIMIT) return { description: `${description} (nested too deep to check here: sent to Fluent as given)`, examples: [example] }
    const fields = Object.values(inner.getFields())
    const required = fields.filter((field) => isNonNullType(field.type) && field.defaultValue === undefined).map((field) => field.name)
    return {
      type: 'object',
      properties: Object.fromEntries(fields.map((field) => [field.name, inputSchema(field.type, `${inner.name}.${field.name}: ${String(field.type)}`, depth + 1)])),
      ...(required.length === 0 ? {} : { required }),
      additionalProperties: false,
      description,
      examples: [example]
    }
  }
  return { ...scalarSchema(inner), description, examples: [example] }
}

/** Whether a query-string or path value can hold this type: scalars, enums and lists of them. */
export function isTextInput (type: GraphQLInputType): boolean {
  const inner = isNonNullType(type) ? type.ofType : type
  if (isListType(inner)) {
    const item = isNonNullType(inner.ofType) ? inner.ofType.ofType : inner.ofType
    return !isListType(item) && !isInputObjectType(item)
  }
  return !isInputObjectType(inner)
}

interface SelectionContext {
  schema: GraphQLSchema
  fragments: Map<string, FragmentDefinitionNode>
}

/** Fields of a selection set on `parent`, flattened through fragments: those from fragments (or under @include/@skip) are optional. */
function collectFields (set: SelectionSetNode, parent: GraphQLCompositeType, context: SelectionContext, optional: boolean,
  out: Map<string, { nodes: FieldNode[], optional: boolean }>, visiting: Set<string>): void {
  for (const selection of set.selections) {
    const conditional = optional || (selection.directives ?? []).some((directive) => directive.name.value === 'include' || directive.name.value === 'skip')
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value
      const entry = out.get(key)
      if (entry === undefined) out.set(key, { nodes: [selection], optional: conditional })
      else {
        entry.nodes.push(selection)
        entry.optional &&= conditional
      }
    } else {
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : context.fragments.get(selection.name.value)
      if (fragment === undefined) continue
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        if (visiting.has(selection.name.value)) continue
        visiting.add(selection.name.value)
      }
      const condition = fragment.typeCondition?.name.value
      const onSameType = condition === undefined || condition === parent.name
      collectFields(fragment.selectionSet, parent, context, conditional || !onSameType, out, visiting)
      if (selection.kind === Kind.FRAGMENT_SPREAD) visiting.delete(selection.name.value)
    }
  }
}

/** The output field definition of a field name on a composite type, looking into the possible types of abstract ones. */
function fieldType (parent: GraphQLCompositeType, name: string, context: SelectionContext): GraphQLOutputType | undefined {
  if (!isAbstractType(parent)) return parent.getFields()[name]?.type
  if ('getFields' in parent) {
    const own = parent.getFields()[name]
    if (own !== undefined) return own.type
  }
  for (const possible of context.schema.getPossibleTypes(parent)) {
    const found = possible.getFields()[name]
    if (found !== undefined) return found.type
  }
  return undefined
}

/** The schema of one selected field's value: nullable types as anyOf [T, null], lists, objects from their selection. */
function valueSchema (type: GraphQLOutputType, nodes: FieldNode[], description: string, context: SelectionContext): JsonSchema {
  if (isNonNullType(type)) return valueSchema(type.ofType, nodes, description, context)
  if (isListType(type)) {
    const items = nullableSchema(type.ofType, nodes, `one ${String(type.ofType)}`, context)
    return { type: 'array', items, description, examples: [[(items.examples as unknown[] | undefined)?.[0]]] }
  }
  const named = getNamedType(type)
  if (isObjectType(named) || isAbstractType(named)) return objectSchema(named, nodes, description, context)
  return { ...scalarSchema(named), description, examples: [scalarExample(named)] }
}

/** Like valueSchema, with null allowed when the type is nullable. */
function nullableSchema (type: GraphQLOutputType, nodes: FieldNode[], description: string, context: SelectionContext): JsonSchema {
  const value = valueSchema(type, nodes, description, context)
  return isNonNullType(type) ? value : { anyOf: [stripDoc(value), { type: 'null' }], description, examples: value.examples }
}

/** An object from a selection set: its selected fields as properties, each described by its schema type. */
export function objectSchema (parent: GraphQLCompositeType, nodes: FieldNode[] | SelectionSetNode, description: string, context: SelectionContext): JsonSchema {
  const fields = new Map<string, { nodes: FieldNode[], optional: boolean }>()
  const sets = Array.isArray(nodes) ? nodes.flatMap((node) => node.selectionSet === undefined ? [] : [node.selectionSet]) : [nodes]
  for (const set of sets) collectFields(set, parent, context, false, fields, new Set())
  const properties: Record<string, JsonSchema> = {}
  const required: string[] = []
  const example: Record<string, unknown> = {}
  for (const [key, entry] of fields) {
    const name = entry.nodes[0]?.name.value ?? key
    let schema: JsonSchema
    if (name === '__typename') {
      schema = { type: 'string', description: 'the GraphQL type of this object', examples: [parent.name] }
    } else {
      const type = fieldType(parent, name, context)
      if (type === undefined) continue
      schema = nullableSchema(type, entry.nodes, `${parent.name}.${name}: ${String(type)}`, context)
    }
    properties[key] = schema
    example[key] = (schema.examples as unknown[] | undefined)?.[0]
    if (!entry.optional) required.push(key)
  }
  return { type: 'object', properties, ...(required.length === 0 ? {} : { required }), description, examples: [example] }
}

/** A branch of an anyOf keeps its structure; the description and example sit on the anyOf itself. */
function stripDoc (schema: JsonSchema): JsonSchema {
  const { description: _description, examples: _examples, ...rest } = schema
  return rest
}

export function selectionContext (schema: GraphQLSchema, fragments: FragmentDefinitionNode[]): SelectionContext {
  return { schema, fragments: new Map(fragments.map((fragment) => [fragment.name.value, fragment])) }
}

export { collectFields, fieldType, valueSchema, type SelectionContext }
