// Resolvers of the Fluent simulator, set on every field of the served schema: generic store reads, and handlers where Fluent's rules matter.
import {
  getNamedType, isAbstractType, isInputObjectType, isInterfaceType, isListType, isNonNullType, isObjectType, isUnionType,
  type GraphQLArgument, type GraphQLField, type GraphQLFieldResolver, type GraphQLNamedType, type GraphQLObjectType,
  type GraphQLSchema, type GraphQLType
} from 'graphql'
import {
  fluentError, type CreateCustomerInput, type CreateOrderInput, type CreateStandardProductInput, type Entity, type SimulatorStore
} from './store.js'
import type { SimulatorAccount } from './types.js'

export interface ResolverContext {
  store: SimulatorStore
  account: SimulatorAccount
}

type Args = Record<string, unknown>
type Resolver = GraphQLFieldResolver<unknown, ResolverContext, Args>

/** Page size when a query gives neither `first` nor `last` (Fluent's default). */
const DEFAULT_PAGE_SIZE = 100

const CURSOR_PREFIX = 'cursor:'
const PAGING_ARGS = new Set(['first', 'last', 'before', 'after'])

function encodeCursor (id: string): string {
  return Buffer.from(CURSOR_PREFIX + id).toString('base64')
}

function decodeCursor (cursor: string): number {
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'))
  if (match === null) throw fluentError('C0100E', `Invalid cursor '${cursor}'`)
  return Number(match[1])
}

interface Connection {
  edges: Array<{ node: Entity, cursor: string }>
  pageInfo: { hasPreviousPage: boolean, hasNextPage: boolean }
}

// Relay pagination over the id order: after/before narrow the list, then first, then last. No endCursor: Fluent has none.
function connectionOf (all: Entity[], args: Args): Connection {
  const first = args.first as number | null | undefined
  const last = args.last as number | null | undefined
  if ((first != null && first < 0) || (last != null && last < 0)) {
    throw fluentError('C0100E', 'first and last must not be negative')
  }
  const afterId = args.after == null ? undefined : decodeCursor(args.after as string)
  const beforeId = args.before == null ? undefined : decodeCursor(args.before as string)
  const inWindow = all.filter((entity) => {
    const id = Number(entity.id)
    return (afterId === undefined || id > afterId) && (beforeId === undefined || id < beforeId)
  })

  let start = 0
  let end = inWindow.length
  const take = first ?? (last == null ? DEFAULT_PAGE_SIZE : undefined)
  if (take !== undefined) end = Math.min(end, take)
  if (last != null) start = Math.max(start, end - last)
  const page = inWindow.slice(start, end)

  const existsBefore = afterId !== undefined && all.some((entity) => Number(entity.id) <= afterId)
  const existsAfter = beforeId !== undefined && all.some((entity) => Number(entity.id) >= beforeId)
  return {
    edges: page.map((node) => ({ node, cursor: encodeCursor(node.id) })),
    pageInfo: { hasPreviousPage: start > 0 || existsBefore, hasNextPage: end < inWindow.length || existsAfter }
  }
}

function unwrap (type: GraphQLType): GraphQLType {
  return isNonNullType(type) ? type.ofType : type
}

/** The node type of a Relay connection type (`XConnection { edges { node } pageInfo }`), or undefined. */
function connectionNode (type: GraphQLType): GraphQLNamedType | undefined {
  const named = unwrap(type)
  if (!isObjectType(named) || !named.name.endsWith('Connection')) return undefined
  const edges = named.getFields().edges
  const edge = edges === undefined ? undefined : getNamedType(edges.type)
  const node = isObjectType(edge) ? edge.getFields().node : undefined
  return node === undefined ? undefined : getNamedType(node.type)
}

function same (stored: unknown, wanted: unknown): boolean {
  if (stored === undefined || stored === null) return wanted === null
  return stored === wanted || String(stored) === String(wanted)
}

function inRange (value: unknown, range: { from?: string | null, to?: string | null }): boolean {
  if (typeof value !== 'string') return false
  const at = Date.parse(value)
  if (range.from != null && at < Date.parse(range.from)) return false
  if (range.to != null && at > Date.parse(range.to)) return false
  return true
}

// `retailerId: [Int!]` filters on the stored `retailer` object's id.
function storedValue (entity: Entity, name: string): unknown {
  if (name in entity) return entity[name]
  const base = name.endsWith('Id') ? name.slice(0, -2) : undefined
  const linked = base === undefined ? undefined : entity[base]
  return typeof linked === 'object' && linked !== null ? (linked as Entity).id : undefined
}

/** A predicate over stored objects built from a field's arguments: lists hold the value, ranges bound a date, keys match a nested object. */
function filterOf (definitions: readonly GraphQLArgument[], args: Args): (entity: Entity) => boolean {
  const tests: Array<(entity: Entity) => boolean> = []
  for (const definition of definitions) {
    const wanted = args[definition.name]
    if (wanted == null || PAGING_ARGS.has(definition.name)) continue
    const type = unwrap(definition.type)
    const name = definition.name
    if (isListType(type)) {
      const list = wanted as unknown[]
      tests.push((entity) => list.some((item) => same(storedValue(entity, name), item)))
    } else if (isInputObjectType(type) && type.name === 'DateRange') {
      tests.push((entity) => inRange(entity[name], wanted as { from?: string | null, to?: string | null }))
    } else if (isInputObjectType(type)) {
      const key = Object.entries(wanted as Args).filter(([, value]) => value != null)
      tests.push((entity) => {
        const nested = entity[name]
        if (typeof nested !== 'object' || nested === null) return false
        return key.every(([field, value]) => same((nested as Args)[field], value))
      })
    } else {
      tests.push((entity) => same(storedValue(entity, name), wanted))
    }
  }
  return (entity) => tests.every((test) => test(entity))
}

/** Concrete stored types behind a named type: itself, or the members of an interface or union. */
function storedTypesOf (schema: GraphQLSchema, type: GraphQLNamedType, store: SimulatorStore): string[] {
  const candidates = isAbstractType(type) ? schema.getPossibleTypes(type).map((member) => member.name) : [type.name]
  return candidates.filter((name) => store.has(name))
}

function unserved (parent: string, field: string): never {
  throw fluentError('C0100E', `the simulator does not serve ${parent}.${field}`)
}

function requireInput<T> (args: Args): T {
  // `input` is nullable in Fluent's schema, but a call without it has nothing to create.
  if (args.input == null) throw fluentError('C0100E', 'input must not be null')
  return args.input as T
}

const RADIANS = Math.PI / 180

/** Great-circle distance in kilometres between two points. */
function haversineKm (a: { latitude: number, longitude: number }, b: { latitude: number, longitude: number }): number {
  const dLat = (b.latitude - a.latitude) * RADIANS
  const dLon = (b.longitude - a.longitude) * RADIANS
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * RADIANS) * Math.cos(b.latitude * RADIANS) * Math.sin(dLon / 2) ** 2
  return 2 * 6371 * Math.asin(Math.sqrt(h))
}

interface SearchVirtualInventoryArgs {
  virtualCatalogue: { ref: string }
  virtualPosition?: { status?: string | null } | null
  productQuantities: Array<{ productRef: string, quantity: number }>
  excludedLocationRefs?: string[] | null
  orderByProximity?: { latitude: number, longitude: number } | null
  first?: number | null
}

// Locations whose virtual positions cover every requested quantity; nearest first when a point is given, else in id order.
function searchVirtualInventory (store: SimulatorStore, args: SearchVirtualInventoryArgs): Connection {
  const catalogue = store.find('VirtualCatalogue', (candidate) => candidate.ref === args.virtualCatalogue.ref)
  if (catalogue === undefined) throw fluentError('C0120E', `VirtualCatalogue not found: '${args.virtualCatalogue.ref}'`)
  if (args.first != null && args.first < 0) throw fluentError('C0100E', 'first must not be negative')
  const wantedStatus = args.virtualPosition?.status
  const positions = store.all(['VirtualPosition']).filter((position) =>
    position.catalogue === catalogue && (wantedStatus == null || position.status === wantedStatus))
  const excluded = new Set(args.excludedLocationRefs ?? [])
  const origin = args.orderByProximity
  const distance = (location: Entity): number => {
    const address = location.primaryAddress as { latitude?: number | null, longitude?: number | null } | null | undefined
    if (origin == null || address?.latitude == null || address.longitude == null) return Number.POSITIVE_INFINITY
    return haversineKm(origin, { latitude: address.latitude, longitude: address.longitude })
  }

  const nodes = store.all(['Location']).filter((location) => !excluded.has(location.ref as string)).flatMap((location) => {
    const covering = args.productQuantities.map((wanted) => positions.find((position) =>
      position.groupRef === location.ref && position.productRef === wanted.productRef && (position.quantity as number) >= wanted.quantity))
    if (covering.some((position) => position === undefined)) return []
    return [{ location, virtualPositions: covering as Entity[], distance: distance(location) }]
  })
  if (origin != null) nodes.sort((a, b) => a.distance - b.distance)
  const take = args.first ?? DEFAULT_PAGE_SIZE
  const page = nodes.slice(0, take)
  return {
    edges: page.map(({ location, virtualPositions }) => ({ node: { id: location.id, __typename: 'VirtualInventory', location, virtualPositions }, cursor: encodeCursor(location.id) })),
    pageInfo: { hasPreviousPage: false, hasNextPage: nodes.length > page.length }
  }
}

/** Root fields whose behaviour is more than a store read. */
const handlers: Record<string, Record<string, Resolver>> = {
  Query: {
    me: (_source, _args, context) => context.store.userOf(context.account),
    searchVirtualInventory: (_source, args, context) =>
      searchVirtualInventory(context.store, args as unknown as SearchVirtualInventoryArgs)
  },
  Mutation: {
    createCustomer: (_source, args, context) => context.store.createCustomer(requireInput<CreateCustomerInput>(args)),
    createStandardProduct: (_source, args, context) =>
      context.store.createStandardProduct(requireInput<CreateStandardProductInput>(args)),
    createOrder: (_source, args, context) => context.store.createOrder(requireInput<CreateOrderInput>(args))
  }
}

// A root field: a connection lists the node type's collection, anything else looks one object up by its arguments.
function rootResolver (schema: GraphQLSchema, parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>): Resolver {
  const handler = handlers[parent.name]?.[field.name]
  if (handler !== undefined) return handler
  const node = connectionNode(field.type)
  const target = node ?? getNamedType(field.type)
  const isMutation = parent === schema.getMutationType()
  return (_source, args, context) => {
    const types = isMutation ? [] : storedTypesOf(schema, target, context.store)
    if (types.length === 0) unserved(parent.name, field.name)
    const matches = filterOf(field.args, args)
    if (node !== undefined) return connectionOf(context.store.all(types).filter(matches), args)
    if (isListType(unwrap(field.type))) return context.store.all(types).filter(matches)
    // A lookup with no key given finds nothing, as `location()` does in Fluent.
    if (!field.args.some((arg) => args[arg.name] != null)) return null
    return context.store.all(types).find(matches) ?? null
  }
}

// A nested field reads the stored object's property; a nested connection pages the stored list with the field's arguments.
function objectResolver (field: GraphQLField<unknown, unknown>): Resolver | undefined {
  if (connectionNode(field.type) === undefined) return undefined
  return (source, args) => {
    const list = (source as Args)[field.name]
    if (!Array.isArray(list)) return null
    return connectionOf((list as Entity[]).filter(filterOf(field.args, args)), args)
  }
}

/** Sets a resolver on every field of every object type, and a type resolver (from the stored `__typename`) on every abstract type. */
export function attachResolvers (schema: GraphQLSchema): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType()].filter((type) => type != null))
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        const resolve = roots.has(type) ? rootResolver(schema, type, field) : objectResolver(field)
        if (resolve !== undefined) field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>
      }
    } else if (isInterfaceType(type) || isUnionType(type)) {
      type.resolveType = (value) => (value as { __typename?: string }).__typename
    }
  }
  return schema
}
