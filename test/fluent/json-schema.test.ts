// JSON Schemas from GraphQL types: enums, the depth bound on recursive input objects, fragments on other types as optional.
import { buildSchema, Kind, parse, type FragmentDefinitionNode, type GraphQLInputType, type OperationDefinitionNode } from 'graphql'
import { describe, expect, it } from 'vitest'
import { INPUT_DEPTH_LIMIT, inputSchema, objectSchema, selectionContext } from '../../src/fluent/json-schema.js'

const schema = buildSchema(`
  enum Colour { RED GREEN }
  input Tree { name: String!, colour: Colour, children: [Tree!] }
  interface Thing { id: ID! }
  type Box implements Thing { id: ID!, size: Int }
  type Bag implements Thing { id: ID!, colour: Colour! }
  type Query { things(filter: Tree): [Thing] }
`)

describe('inputSchema', () => {
  it('types enums by their values and requires the non-null fields', () => {
    const tree = inputSchema(schema.getType('Tree') as GraphQLInputType, 'a tree') as Record<string, any>
    expect(tree).toMatchObject({ type: 'object', required: ['name'], additionalProperties: false, description: 'a tree', examples: [{ name: 'text' }] })
    expect(tree.properties.colour).toMatchObject({ type: 'string', enum: ['RED', 'GREEN'], examples: ['RED'] })
  })

  it('stops at the depth bound on a recursive input object, accepting anything below it', () => {
    let node = inputSchema(schema.getType('Tree') as GraphQLInputType, 'a tree') as Record<string, any>
    let depth = 0
    while (node.type === 'object') {
      node = node.properties.children.items
      depth++
    }
    expect(depth).toBe(INPUT_DEPTH_LIMIT)
    expect(node.description).toContain('nested too deep')
  })
})

describe('objectSchema', () => {
  it('merges fragments on other types as optional properties, and those on the type itself as required', () => {
    const document = parse('query { things { __typename id ... on Box { size } ...BagBits } } fragment BagBits on Bag { colour }')
    const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode
    const fragments = document.definitions.filter((definition) => definition.kind === Kind.FRAGMENT_DEFINITION) as FragmentDefinitionNode[]
    const things = operation.selectionSet.selections[0]
    if (things?.kind !== Kind.FIELD || things.selectionSet === undefined) throw new Error('no things')
    const thing = objectSchema(schema.getType('Thing') as never, things.selectionSet, 'a thing', selectionContext(schema, fragments)) as Record<string, any>
    expect(thing.required).toEqual(['__typename', 'id'])
    expect(Object.keys(thing.properties)).toEqual(['__typename', 'id', 'size', 'colour'])
    expect(thing.properties.size).toMatchObject({ anyOf: [{ type: 'integer' }, { type: 'null' }] })
    expect(thing.properties.colour).toMatchObject({ type: 'string', enum: ['RED', 'GREEN'] })
  })
})
