// Fluent customer operations: GraphQL documents (built once) and the functions that send them.
import type { Tenant } from '../config/tenants.js'
import type { Attribute, Connection } from '../schemas/common.js'
import type { CallContext, FluentClient } from './client.js'

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

export async function createCustomer (client: FluentClient, tenant: Tenant, input: CreateCustomerInput, context: CallContext): Promise<FluentCustomer | null> {
  const data = await client.data<{ createCustomer: FluentCustomer | null }>(tenant, {
    query: CREATE_CUSTOMER, variables: { input }, operationName: 'CreateCustomer', kind: 'mutation'
  }, context)
  return data.createCustomer
}

export async function customerById (client: FluentClient, tenant: Tenant, id: string, context: CallContext): Promise<FluentCustomer | null> {
  const data = await client.data<{ customerById: FluentCustomer | null }>(tenant, {
    query: CUSTOMER_BY_ID, variables: { id }, operationName: 'CustomerById', kind: 'query'
  }, context)
  return data.customerById
}

export interface CustomerSearch {
  email?: string | undefined
  first: number
  after?: string | undefined
}

export async function findCustomers (client: FluentClient, tenant: Tenant, search: CustomerSearch, context: CallContext): Promise<Connection<FluentCustomer> | null> {
  const variables = {
    first: search.first,
    ...(search.email === undefined ? {} : { primaryEmail: [search.email] }),
    ...(search.after === undefined ? {} : { after: search.after })
  }
  const data = await client.data<{ customers: Connection<FluentCustomer> | null }>(tenant, {
    query: CUSTOMERS, variables, operationName: 'Customers', kind: 'query'
  }, context)
  return data.customers
}
