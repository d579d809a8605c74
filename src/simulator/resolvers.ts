// Root resolvers of the Fluent simulator: Query and Mutation fields over the store; nested fields use graphql-js defaults.
import type { SimulatorStore, Customer, CustomerFilter, CreateCustomerInput, CreateStandardProductInput } from './store.js'
import { fluentError } from './store.js'
import type { SimulatorAccount } from './types.js'

export interface ResolverContext {
  store: SimulatorStore
  account: SimulatorAccount
}

/** Page size when a query gives neither `first` nor `last` (Fluent's default). */
export const DEFAULT_PAGE_SIZE = 100

const CURSOR_PREFIX = 'cursor:'

export function encodeCursor (id: string): string {
  return Buffer.from(CURSOR_PREFIX + id).toString('base64')
}

function decodeCursor (cursor: string): number {
  const match = /^cursor:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'))
  if (match === null) throw fluentError('C0100E', `Invalid cursor '${cursor}'`)
  return Number(match[1])
}

interface CustomersArgs extends CustomerFilter {
  first?: number | null
  last?: number | null
  before?: string | null
  after?: string | null
}

interface CustomerConnection {
  edges: Array<{ node: Customer, cursor: string }>
  pageInfo: { hasPreviousPage: boolean, hasNextPage: boolean }
}

// Relay pagination over the id order: after/before narrow the list, then first, then last.
function customerConnection (store: SimulatorStore, args: CustomersArgs): CustomerConnection {
  const { first, last, before, after, ...filter } = args
  if ((first != null && first < 0) || (last != null && last < 0)) {
    throw fluentError('C0100E', 'first and last must not be negative')
  }
  const all = store.findCustomers(filter)
  const afterId = after == null ? undefined : decodeCursor(after)
  const beforeId = before == null ? undefined : decodeCursor(before)
  const inWindow = all.filter((customer) => {
    const id = Number(customer.id)
    return (afterId === undefined || id > afterId) && (beforeId === undefined || id < beforeId)
  })

  let start = 0
  let end = inWindow.length
  const take = first ?? (last == null ? DEFAULT_PAGE_SIZE : undefined)
  if (take !== undefined) end = Math.min(end, take)
  if (last != null) start = Math.max(start, end - last)
  const page = inWindow.slice(start, end)

  const existsBefore = afterId !== undefined && all.some((customer) => Number(customer.id) <= afterId)
  const existsAfter = beforeId !== undefined && all.some((customer) => Number(customer.id) >= beforeId)
  return {
    edges: page.map((node) => ({ node, cursor: encodeCursor(node.id) })),
    pageInfo: {
      hasPreviousPage: start > 0 || existsBefore,
      hasNextPage: end < inWindow.length || existsAfter
    }
  }
}

/** The rootValue handed to graphql-js execute: one function per Query and Mutation field. */
export const rootValue = {
  me: (_args: unknown, context: ResolverContext) => context.store.userOf(context.account),
  customerById: (args: { id: string }, context: ResolverContext) => context.store.customerById(args.id),
  customer: (args: { ref: string }, context: ResolverContext) => context.store.customerByRef(args.ref),
  customers: (args: CustomersArgs, context: ResolverContext) => customerConnection(context.store, args),
  retailerById: (args: { id: string }, context: ResolverContext) => context.store.retailerById(args.id),
  productCatalogue: (args: { ref: string }, context: ResolverContext) => context.store.catalogueByRef(args.ref),
  standardProduct: (args: { ref: string, catalogue: { ref: string } }, context: ResolverContext) =>
    context.store.standardProduct(args.ref, args.catalogue.ref),

  // `input` is nullable in Fluent's schema, but a call without it has nothing to create.
  createCustomer: (args: { input?: CreateCustomerInput | null }, context: ResolverContext) => {
    if (args.input == null) throw fluentError('C0100E', 'input must not be null')
    return context.store.createCustomer(args.input)
  },
  createStandardProduct: (args: { input?: CreateStandardProductInput | null }, context: ResolverContext) => {
    if (args.input == null) throw fluentError('C0100E', 'input must not be null')
    return context.store.createStandardProduct(args.input)
  }
}
