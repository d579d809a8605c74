// Fluent order operations: createOrder, order(ref:) and orders, their documents built once around one selection.
import type { Attribute, Connection } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentOrder {
  id: string
  ref?: string | null
  type: string
  status?: string | null
  totalPrice?: number | null
  retailer?: { id: string } | null
  customer?: { id: string } | null
  items?: Connection<{ ref?: string | null, quantity: number, price?: number | null, status: string, product?: { ref: string } | null }> | null
  fulfilments?: Connection<{ id: string, ref?: string | null, status?: string | null, fromLocation?: { ref?: string | null } | null }> | null
  createdOn?: string | null
  updatedOn?: string | null
}

/** CreateCustomerAddressInput: `ref` is required by Fluent; the gateway names it `{orderRef}-DELIVERY`. */
export interface CreateAddressInput {
  ref: string
  name?: string
  companyName?: string
  street?: string
  street2?: string
  city?: string
  state?: string
  postcode?: string
  region?: string
  country?: string
  latitude?: number
  longitude?: number
  timeZone?: string
  email?: string
}

/** CreateOrderInput as Fluent names it (one fulfilment choice); optional keys are absent, never empty strings. */
export interface CreateOrderInput {
  ref: string
  type: string
  retailer: { id: string }
  customer: { id: string }
  items: Array<{
    ref: string
    productRef: string
    productCatalogueRef: string
    quantity: number
    price?: number
    paidPrice?: number
    currency?: string
    attributes?: Attribute[]
  }>
  fulfilmentChoice: {
    deliveryType: string
    pickupLocationRef?: string
    deliveryInstruction?: string
    deliveryAddress?: CreateAddressInput
  }
  totalPrice?: number
  attributes?: Attribute[]
}

// 500 items is the most POST /orders accepts; 100 fulfilments is far more than an order is split into.
const ORDER_FIELDS = `id ref type status totalPrice retailer { id } customer { id } createdOn updatedOn
    items(first: 500) { edges { node { ref quantity price status product { ref } } } }
    fulfilments(first: 100) { edges { node { id ref status fromLocation { ref } } } }`

export const CREATE_ORDER = `mutation CreateOrder($input: CreateOrderInput) {
  createOrder(input: $input) { ${ORDER_FIELDS} }
}`

export const ORDER_BY_REF = `query OrderByRef($ref: String!) {
  order(ref: $ref) { ${ORDER_FIELDS} }
}`

export const ORDERS = `query Orders($status: [String], $type: [String!], $updatedOn: DateRange, $first: Int, $after: String) {
  orders(status: $status, type: $type, updatedOn: $updatedOn, first: $first, after: $after) {
    edges { cursor node { ${ORDER_FIELDS} } }
    pageInfo { hasNextPage }
  }
}`

export interface OrderSearch {
  status?: string[] | undefined
  type?: string[] | undefined
  updatedSince?: string | undefined
  first: number
  after?: string | undefined
}

export const orders = {
  async create (fluent: Caller, input: CreateOrderInput): Promise<FluentOrder | null> {
    const data = await fluent.data<{ createOrder: FluentOrder | null }>({
      query: CREATE_ORDER, variables: { input }, operationName: 'CreateOrder', kind: 'mutation'
    })
    return data.createOrder
  },

  async byRef (fluent: Caller, ref: string): Promise<FluentOrder | null> {
    const data = await fluent.data<{ order: FluentOrder | null }>({
      query: ORDER_BY_REF, variables: { ref }, operationName: 'OrderByRef', kind: 'query'
    })
    return data.order
  },

  async find (fluent: Caller, search: OrderSearch): Promise<Connection<FluentOrder> | null> {
    const variables = {
      first: search.first,
      ...(search.status === undefined ? {} : { status: search.status }),
      ...(search.type === undefined ? {} : { type: search.type }),
      ...(search.updatedSince === undefined ? {} : { updatedOn: { from: search.updatedSince } }),
      ...(search.after === undefined ? {} : { after: search.after })
    }
    const data = await fluent.data<{ orders: Connection<FluentOrder> | null }>({
      query: ORDERS, variables, operationName: 'Orders', kind: 'query'
    })
    return data.orders
  }
}
