// In-memory data of the Fluent simulator: retailers, catalogues, users, customers and products, with Fluent's error codes.
import { GraphQLError } from 'graphql'
import type { SimulatorAccount } from './types.js'

export interface Attribute {
  name: string
  type: string
  value: unknown
}

export interface Retailer {
  id: string
  ref: string
  status: string
  tradingName: string
  primaryEmail: string | null
  createdOn: string
  updatedOn: string
}

export interface ProductCatalogue {
  id: string
  ref: string
  type: string
  workflowRef: string
  workflowVersion: number
  status: string
  name: string
  description: string | null
  retailerRefs: string[]
  attributes: Attribute[]
  createdOn: string
  updatedOn: string
}

export interface User {
  id: string
  ref: string
  username: string
  title: string | null
  firstName: string
  lastName: string
  primaryEmail: string
  primaryPhone: string | null
  type: string
  status: string
  attributes: Attribute[]
  department: string | null
  country: string | null
  timezone: string
  promotionOptIn: boolean
  primaryRetailer: Retailer | null
  createdOn: string
  updatedOn: string
}

export interface Customer {
  id: string
  ref: string
  status: string
  createdOn: string
  updatedOn: string
  attributes: Array<Attribute | null> | null
  title: string | null
  department: string | null
  country: string | null
  firstName: string | null
  lastName: string | null
  username: string
  primaryEmail: string
  primaryPhone: string | null
  timezone: string
  promotionOptIn: boolean
  retailer: Retailer
}

export interface Price {
  type: string
  currency: string
  value: number
}

export interface StandardProduct {
  id: string
  ref: string
  type: string
  workflowRef: string
  workflowVersion: number
  status: string
  attributes: Array<Attribute | null> | null
  gtin: string
  name: string
  summary: string | null
  prices: Array<Price | null> | null
  tax: { country: string, group: string, tariff: string } | null
  categories: Array<{ ref: string, catalogue: { ref: string } } | null> | null
  catalogue: ProductCatalogue
  createdOn: string
  updatedOn: string
}

export interface CreateCustomerInput {
  username: string
  attributes?: Array<Attribute | null> | null
  title?: string | null
  department?: string | null
  country?: string | null
  firstName?: string | null
  lastName?: string | null
  primaryEmail: string
  primaryPhone?: string | null
  timezone: string
  promotionOptIn: boolean
  retailer: { id: string }
}

export interface CreateStandardProductInput {
  ref: string
  catalogue: { ref: string }
  type: string
  attributes?: Array<Attribute | null> | null
  gtin: string
  name: string
  summary?: string | null
  categories?: Array<{ ref: string, catalogue: { ref: string } } | null> | null
  prices?: Array<Price | null> | null
  taxType?: { country: string, group: string, tariff: string } | null
}

/** Filters of Query.customers: every list given must contain the customer's value. */
export interface CustomerFilter {
  ref?: Array<string | null> | null
  status?: Array<string | null> | null
  title?: Array<string | null> | null
  department?: Array<string | null> | null
  country?: Array<string | null> | null
  firstName?: Array<string | null> | null
  lastName?: Array<string | null> | null
  username?: Array<string | null> | null
  primaryEmail?: Array<string | null> | null
  primaryPhone?: Array<string | null> | null
  timezone?: Array<string | null> | null
  promotionOptIn?: Array<boolean | null> | null
  createdOn?: { from?: string | null, to?: string | null } | null
  updatedOn?: { from?: string | null, to?: string | null } | null
}

const listFilterKeys = [
  'ref', 'status', 'title', 'department', 'country', 'firstName', 'lastName',
  'username', 'primaryEmail', 'primaryPhone', 'timezone', 'promotionOptIn'
] as const

export const FIRST_ID = 1001

/** A Fluent-style execution error: the code both leads the message and sits in extensions.code. */
export function fluentError (code: string, message: string): GraphQLError {
  return new GraphQLError(`${code} ${message}`, { extensions: { code } })
}

function inRange (value: string, range: { from?: string | null, to?: string | null } | null | undefined): boolean {
  if (range == null) return true
  const at = Date.parse(value)
  if (range.from != null && at < Date.parse(range.from)) return false
  if (range.to != null && at > Date.parse(range.to)) return false
  return true
}

export class SimulatorStore {
  readonly retailers = new Map<string, Retailer>()
  readonly catalogues = new Map<string, ProductCatalogue>()
  readonly users = new Map<string, User>()
  readonly customers = new Map<string, Customer>()
  readonly products = new Map<string, StandardProduct>()
  private nextCustomerId = FIRST_ID
  private nextProductId = FIRST_ID
  private readonly accounts: SimulatorAccount[]

  constructor (accounts: SimulatorAccount[]) {
    this.accounts = accounts
    this.seed()
  }

  /** Drops everything created since start and puts the seed data back. */
  seed (): void {
    const now = new Date().toISOString()
    this.retailers.clear()
    this.catalogues.clear()
    this.users.clear()
    this.customers.clear()
    this.products.clear()
    this.nextCustomerId = FIRST_ID
    this.nextProductId = FIRST_ID

    // Retailer "1" always exists; every other retailerId an account names gets one too.
    const retailerIds = new Set(['1'])
    for (const account of this.accounts) {
      if (account.retailerId !== undefined) retailerIds.add(account.retailerId)
    }
    for (const id of retailerIds) {
      const ref = id === '1' ? 'DEMO-RETAILER' : `RETAILER-${id}`
      this.retailers.set(id, {
        id,
        ref,
        status: 'ACTIVE',
        tradingName: id === '1' ? 'Demo Retailer' : `Retailer ${id}`,
        primaryEmail: null,
        createdOn: now,
        updatedOn: now
      })
      const catalogueRef = `PC:MASTER:${id}`
      this.catalogues.set(catalogueRef, {
        id,
        ref: catalogueRef,
        type: 'MASTER',
        workflowRef: 'PRODUCT_CATALOGUE::MASTER',
        workflowVersion: 1,
        status: 'ACTIVE',
        name: `Master Product Catalogue ${id}`,
        description: null,
        retailerRefs: [ref],
        attributes: [],
        createdOn: now,
        updatedOn: now
      })
    }

    this.accounts.forEach((account, index) => {
      this.users.set(account.username, {
        id: String(index + 1),
        ref: account.username,
        username: account.username,
        title: null,
        firstName: 'Demo',
        lastName: 'Integration',
        primaryEmail: `${account.username}@example.com`,
        primaryPhone: null,
        type: 'ADMIN',
        status: 'ACTIVE',
        attributes: [],
        department: null,
        country: null,
        timezone: 'UTC',
        promotionOptIn: false,
        primaryRetailer: account.retailerId === undefined ? null : this.retailers.get(account.retailerId) ?? null,
        createdOn: now,
        updatedOn: now
      })
    })
  }

  userOf (account: SimulatorAccount): User | null {
    return this.users.get(account.username) ?? null
  }

  createCustomer (input: CreateCustomerInput): Customer {
    const retailer = this.retailers.get(input.retailer.id)
    if (retailer === undefined) throw fluentError('C0120E', 'Retailer not found')
    for (const existing of this.customers.values()) {
      if (existing.username === input.username) {
        throw fluentError('C0123E', `Unique constraint violation: a customer with username '${input.username}' already exists`)
      }
    }
    const now = new Date().toISOString()
    const customer: Customer = {
      id: String(this.nextCustomerId++),
      ref: input.username,
      status: 'ACTIVE',
      createdOn: now,
      updatedOn: now,
      attributes: input.attributes ?? null,
      title: input.title ?? null,
      department: input.department ?? null,
      country: input.country ?? null,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      username: input.username,
      primaryEmail: input.primaryEmail,
      primaryPhone: input.primaryPhone ?? null,
      timezone: input.timezone,
      promotionOptIn: input.promotionOptIn,
      retailer
    }
    this.customers.set(customer.id, customer)
    return customer
  }

  customerById (id: string): Customer | null {
    return this.customers.get(id) ?? null
  }

  customerByRef (ref: string): Customer | null {
    for (const customer of this.customers.values()) {
      if (customer.ref === ref) return customer
    }
    return null
  }

  /** Customers matching the filter, ordered by numeric id. */
  findCustomers (filter: CustomerFilter): Customer[] {
    const matches = [...this.customers.values()].filter((customer) => {
      for (const key of listFilterKeys) {
        const wanted = filter[key]
        if (wanted == null) continue
        if (!(wanted as unknown[]).includes(customer[key])) return false
      }
      return inRange(customer.createdOn, filter.createdOn) && inRange(customer.updatedOn, filter.updatedOn)
    })
    return matches.sort((a, b) => Number(a.id) - Number(b.id))
  }

  retailerById (id: string): Retailer | null {
    return this.retailers.get(id) ?? null
  }

  catalogueByRef (ref: string): ProductCatalogue | null {
    return this.catalogues.get(ref) ?? null
  }

  createStandardProduct (input: CreateStandardProductInput): StandardProduct {
    const catalogue = this.catalogues.get(input.catalogue.ref)
    if (catalogue === undefined) throw fluentError('C0120E', 'ProductCatalogue not found')
    if (this.standardProduct(input.ref, catalogue.ref) !== null) {
      throw fluentError('C0121E', `Unique constraint violation: a product with ref '${input.ref}' already exists in catalogue '${catalogue.ref}'`)
    }
    const now = new Date().toISOString()
    const product: StandardProduct = {
      id: String(this.nextProductId++),
      ref: input.ref,
      type: input.type,
      workflowRef: `PRODUCT::${input.type}`,
      workflowVersion: 1,
      status: 'CREATED',
      attributes: input.attributes ?? null,
      gtin: input.gtin,
      name: input.name,
      summary: input.summary ?? null,
      prices: input.prices ?? null,
      tax: input.taxType ?? null,
      categories: input.categories ?? null,
      catalogue,
      createdOn: now,
      updatedOn: now
    }
    this.products.set(product.id, product)
    return product
  }

  standardProduct (ref: string, catalogueRef: string): StandardProduct | null {
    for (const product of this.products.values()) {
      if (product.ref === ref && product.catalogue.ref === catalogueRef) return product
    }
    return null
  }
}
