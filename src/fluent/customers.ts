// Fluent customer operations: GraphQL documents (built once) and the functions that send them.
import type { Attribute, Connection } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentCustomer {
  id: string
  ref?: string | null
  username?: string | null
  status?: string | null
  title?: string | null
  firstName?: string | null
  lastName?: string | null
  primaryEmail?: string | null
  primaryPhone?: string | null
  country?: string | null
  department?: string | null
  timezone?: string | null
  promotionOptIn?: boolean | null
  retailer?: { id: string } | null
  attributes?: Attribute[] | null
  createdOn?: string | null
  updatedOn?: string | null
}

/** CreateCustomerInput as Fluent names it; optional keys are absent, never empty strings. */
export interface CreateCustomerInput {
  username: string
  primaryEmail: string
  timezone: string
  promotionOptIn: boolean
  retailer: { id: string }
  firstName?: string
  lastName?: string
  primaryPhone?: string
  country?: string
  title?: string
  department?: string
  attributes?: Attribute[]
}

const CUSTOMER_FIELDS = `id ref username status title firstName lastName primaryEmail primaryPhone country department
    timezone promotionOptIn retailer { id } attributes { name type value } createdOn updatedOn`

export const CREATE_CUSTOMER = `mutation CreateCustomer($input: CreateCustomerInput) {
  createCustomer(input: $input) { ${CUSTOMER_FIELDS} }
}`

export const CUSTOMER_BY_ID = `query CustomerById($id: ID!) {
  customerById(id: $id) { ${CUSTOMER_FIELDS} }
}`

export const CUSTOMERS = `query Customers($primaryEmail: [String], $first: Int, $after: String) {
  customers(primaryEmail: $primaryEmail, first: $first, after: $after) {
    edges { cursor node { ${CUSTOMER_FIELDS} } }
    pageInfo { hasNextPage }
  }
}`

export const CUSTOMER_BY_USERNAME = `query CustomerByUsername($username: [String]) {
  customers(username: $username, first: 1) {
    edges { node { ${CUSTOMER_FIELDS} } }
  }
}`

export interface CustomerSearch {
  email?: string | undefined
  first: number
  after?: string | undefined
}

export const customers = {
  async create (fluent: Caller, input: CreateCustomerInput): Promise<FluentCustomer | null> {
    const data = await fluent.data<{ createCustomer: FluentCustomer | null }>({
      query: CREATE_CUSTOMER, variables: { input }, operationName: 'CreateCustomer', kind: 'mutation'
    })
    return data.createCustomer
  },

  async byId (fluent: Caller, id: string): Promise<FluentCustomer | null> {
    const data = await fluent.data<{ customerById: FluentCustomer | null }>({
      query: CUSTOMER_BY_ID, variables: { id }, operationName: 'CustomerById', kind: 'query'
    })
    return data.customerById
  },

  /** The customer with this username (unique in Fluent), or null. */
  async byUsername (fluent: Caller, username: string): Promise<FluentCustomer | null> {
    const data = await fluent.data<{ customers: { edges: Array<{ node: FluentCustomer }> } | null }>({
      query: CUSTOMER_BY_USERNAME, variables: { username: [username] }, operationName: 'CustomerByUsername', kind: 'query'
    })
    return data.customers?.edges[0]?.node ?? null
  },

  async find (fluent: Caller, search: CustomerSearch): Promise<Connection<FluentCustomer> | null> {
    const variables = {
      first: search.first,
      ...(search.email === undefined ? {} : { primaryEmail: [search.email] }),
      ...(search.after === undefined ? {} : { after: search.after })
    }
    const data = await fluent.data<{ customers: Connection<FluentCustomer> | null }>({
      query: CUSTOMERS, variables, operationName: 'Customers', kind: 'query'
    })
    return data.customers
  }
}
