// In-memory data of the Fluent simulator: one collection of plain objects per GraphQL type, and the creates that need Fluent's rules.
import { GraphQLError } from 'graphql'
import { seedDemoData } from './seed.js'
import type { SimulatorAccount } from './types.js'

/** A stored object: the fields of its GraphQL type (nested objects by reference), its id, and its concrete type name. */
export type Entity = Record<string, unknown> & { id: string, __typename: string }

export interface Attribute {
  name: string
  type: string
  value: unknown
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
  prices?: Array<{ type: string, currency: string, value: number } | null> | null
  taxType?: { country: string, group: string, tariff: string } | null
}

type Optional<T> = T | null | undefined

export interface CreateAddressInput {
  ref: string
  [field: string]: unknown
}

export interface CreateOrderInput {
  ref: string
  type: string
  attributes?: Optional<Array<Attribute | null>>
  retailer: { id: string }
  customer: { id: string }
  totalPrice?: Optional<number>
  totalTaxPrice?: Optional<number>
  fulfilmentChoice?: Optional<{
    ref?: Optional<string>
    type?: Optional<string>
    deliveryType: string
    pickupLocationRef?: Optional<string>
    deliveryAddress?: Optional<CreateAddressInput>
    [field: string]: unknown
  }>
  items: Array<{
    ref: string
    productRef: string
    productCatalogueRef?: Optional<string>
    quantity: number
    [field: string]: unknown
  } | null>
  [field: string]: unknown
}

/** The GraphQL types the simulator keeps; a root field whose node type is one of these is served generically. */
const STORED_TYPES = [
  'Retailer', 'ProductCatalogue', 'InventoryCatalogue', 'VirtualCatalogue', 'User', 'Customer', 'StandardProduct',
  'Location', 'InventoryPosition', 'VirtualPosition', 'Order', 'Fulfilment'
] as const

export const FIRST_ID = 1001

/** A Fluent-style execution error: the code both leads the message and sits in extensions.code. */
export function fluentError (code: string, message: string): GraphQLError {
  return new GraphQLError(`${code} ${message}`, { extensions: { code } })
}

function withoutNullish (input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value != null))
}

export class SimulatorStore {
  private readonly collections = new Map<string, Entity[]>()
  private readonly nextIds = new Map<string, number>()
  private readonly accounts: SimulatorAccount[]
  private readonly demoData: boolean

  constructor (accounts: SimulatorAccount[], options: { demoData?: boolean } = {}) {
    this.accounts = accounts
    this.demoData = options.demoData ?? false
    this.seed()
  }

  /** Whether the store keeps objects of this GraphQL type. */
  has (type: string): boolean {
    return this.collections.has(type)
  }

  /** Every stored object of these types, in numeric id order. */
  all (types: readonly string[]): Entity[] {
    const found = types.flatMap((type) => this.collections.get(type) ?? [])
    return types.length > 1 ? found.sort((a, b) => Number(a.id) - Number(b.id)) : found
  }

  /** Stores an object under a fresh numeric id (ids of created objects start at FIRST_ID per type). */
  add (type: string, fields: Record<string, unknown>): Entity {
    const collection = this.collections.get(type)
    if (collection === undefined) throw new Error(`the simulator keeps no ${type}`)
    const next = this.nextIds.get(type) ?? FIRST_ID
    this.nextIds.set(type, next + 1)
    const entity = { ...fields, id: String(next), __typename: type } as Entity
    collection.push(entity)
    return entity
  }

  find (type: string, predicate: (entity: Entity) => boolean): Entity | undefined {
    return this.collections.get(type)?.find(predicate)
  }

  /** Drops everything created since start and puts the seed data back. */
  seed (): void {
    for (const type of STORED_TYPES) this.collections.set(type, [])
    this.nextIds.clear()
    const now = new Date().toISOString()

    // Retailer "1" always exists; every other retailerId an account names gets one too, each with its catalogues.
    const retailerIds = new Set(['1'])
    for (const account of this.accounts) {
      if (account.retailerId !== undefined) retailerIds.add(account.retailerId)
    }
    const stamp = { createdOn: now, updatedOn: now }
    for (const id of retailerIds) {
      const ref = id === '1' ? 'DEMO-RETAILER' : `RETAILER-${id}`
      const retailer = this.put('Retailer', id, {
        ref, status: 'ACTIVE', tradingName: id === '1' ? 'Demo Retailer' : `Retailer ${id}`, primaryEmail: null, ...stamp
      })
      const catalogue = { workflowVersion: 1, status: 'ACTIVE', description: null, retailerRefs: [retailer.ref], attributes: [], ...stamp }
      this.put('ProductCatalogue', id, {
        ...catalogue, ref: `PC:MASTER:${id}`, type: 'MASTER', workflowRef: 'PRODUCT_CATALOGUE::MASTER', name: `Master Product Catalogue ${id}`
      })
      this.put('InventoryCatalogue', id, {
        ...catalogue, ref: `DEFAULT:${id}`, type: 'DEFAULT', workflowRef: 'INVENTORY_CATALOGUE::DEFAULT', name: `Inventory Catalogue ${id}`
      })
      this.put('VirtualCatalogue', id, {
        ...catalogue,
        ref: `BASE:${id}`,
        type: 'BASE',
        workflowRef: 'VIRTUAL_CATALOGUE::BASE',
        name: `Base Virtual Catalogue ${id}`,
        inventoryCatalogueRef: `DEFAULT:${id}`,
        productCatalogueRef: `PC:MASTER:${id}`
      })
    }

    this.accounts.forEach((account, index) => {
      this.put('User', String(index + 1), {
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
        primaryRetailer: account.retailerId === undefined ? null : this.retailerById(account.retailerId) ?? null,
        ...stamp
      })
    })

    if (this.demoData) {
      // Demo objects are numbered from 1 through the same creates callers use; ids of later creates start at FIRST_ID again.
      for (const type of STORED_TYPES) this.nextIds.set(type, 1)
      seedDemoData(this)
      this.nextIds.clear()
    }
  }

  /** Stores a seed object under a given id. */
  put (type: string, id: string, fields: Record<string, unknown>): Entity {
    const entity = { ...fields, id, __typename: type } as Entity
    this.collections.get(type)?.push(entity)
    return entity
  }

  retailerById (id: string): Entity | undefined {
    return this.find('Retailer', (retailer) => retailer.id === id)
  }

  userOf (account: SimulatorAccount): Entity | null {
    return this.find('User', (user) => user.username === account.username) ?? null
  }

  createCustomer (input: CreateCustomerInput): Entity {
    const retailer = this.retailerById(input.retailer.id)
    if (retailer === undefined) throw fluentError('C0120E', 'Retailer not found')
    if (this.find('Customer', (existing) => existing.username === input.username) !== undefined) {
      throw fluentError('C0123E', `Unique constraint violation: a customer with username '${input.username}' already exists`)
    }
    const now = new Date().toISOString()
    return this.add('Customer', {
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
    })
  }

  standardProduct (ref: string, catalogueRef: string): Entity | undefined {
    return this.find('StandardProduct', (product) => product.ref === ref && (product.catalogue as Entity).ref === catalogueRef)
  }

  createStandardProduct (input: CreateStandardProductInput): Entity {
    const catalogue = this.find('ProductCatalogue', (candidate) => candidate.ref === input.catalogue.ref)
    if (catalogue === undefined) throw fluentError('C0120E', 'ProductCatalogue not found')
    if (this.standardProduct(input.ref, catalogue.ref as string) !== undefined) {
      throw fluentError('C0121E', `Unique constraint violation: a product with ref '${input.ref}' already exists in catalogue '${String(catalogue.ref)}'`)
    }
    const now = new Date().toISOString()
    return this.add('StandardProduct', {
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
    })
  }

  /**
   * Creates an order in CREATED status with its items, its fulfilment choice and one fulfilment: from the pickup location
   * for CC, else from the first location the store has.
   */
  createOrder (input: CreateOrderInput, now = new Date().toISOString()): Entity {
    const retailer = this.retailerById(input.retailer.id)
    if (retailer === undefined) throw fluentError('C0120E', 'Retailer not found')
    const customer = this.find('Customer', (candidate) => candidate.id === input.customer.id)
    if (customer === undefined) throw fluentError('C0120E', `Customer not found: no customer with id '${input.customer.id}'`)
    if (this.find('Order', (order) => order.ref === input.ref && order.retailer === retailer) !== undefined) {
      throw fluentError('C0121E', `Unique constraint violation: an order with ref '${input.ref}' already exists for retailer '${retailer.id}'`)
    }
    const choice = input.fulfilmentChoice
    if (choice == null) throw fluentError('C0100E', 'fulfilmentChoice must not be null')
    const items = input.items.filter((item) => item !== null)
    if (items.length === 0) throw fluentError('C0100E', 'items must not be empty')

    const products = items.map((item) => {
      const catalogueRef = item.productCatalogueRef ?? `PC:MASTER:${retailer.id}`
      const product = this.standardProduct(item.productRef, catalogueRef)
      if (product === undefined) throw fluentError('C0120E', `Product not found: '${item.productRef}' in catalogue '${catalogueRef}'`)
      return product
    })
    let location: Entity | undefined
    if (choice.pickupLocationRef != null) {
      location = this.find('Location', (candidate) => candidate.ref === choice.pickupLocationRef)
      if (location === undefined) throw fluentError('C0120E', `Location not found: '${choice.pickupLocationRef}'`)
    } else if (choice.deliveryType === 'CC' || input.type === 'CC') {
      throw fluentError('C0100E', 'fulfilmentChoice.pickupLocationRef is required for a CC order')
    } else {
      location = this.all(['Location'])[0]
      if (location === undefined) throw fluentError('C0120E', 'Location not found: the simulator has no location to fulfil from')
    }

    const stamp = { createdOn: now, updatedOn: now }
    const deliveryAddress = choice.deliveryAddress == null
      ? null
      : { ...withoutNullish(choice.deliveryAddress), id: `${input.ref}-ADDRESS`, type: 'DELIVERY', __typename: 'CustomerAddress', ...stamp }
    const fulfilmentChoice = {
      ...withoutNullish(choice),
      id: String(this.nextIds.get('Order') ?? FIRST_ID),
      ref: choice.ref ?? `${input.ref}-FC`,
      type: choice.type ?? input.type,
      status: 'CREATED',
      workflowRef: 'FULFILMENT_CHOICE::DEFAULT',
      workflowVersion: 1,
      deliveryAddress,
      ...stamp
    }
    const order = this.add('Order', {
      ref: input.ref,
      type: input.type,
      status: 'CREATED',
      workflowRef: `ORDER::${input.type}`,
      workflowVersion: 1,
      attributes: input.attributes ?? [],
      retailer,
      totalPrice: input.totalPrice ?? null,
      totalTaxPrice: input.totalTaxPrice ?? null,
      customer,
      customerLink: { ref: customer.ref },
      fulfilmentChoice,
      ...stamp
    })
    const orderItems = items.map((item, index) => ({
      ...withoutNullish(item),
      ref: item.ref,
      quantity: item.quantity,
      id: `${order.id}${String(index + 1).padStart(2, '0')}`,
      status: 'CREATED',
      product: products[index],
      order,
      fulfilmentChoice,
      attributes: item.attributes ?? [],
      ...stamp
    }))
    const fulfilment = this.add('Fulfilment', {
      ref: `${input.ref}-F1`,
      status: 'CREATED',
      fulfilmentChoiceRef: fulfilmentChoice.ref,
      workflowRef: `FULFILMENT::${input.type}`,
      workflowVersion: 1,
      attributes: [],
      deliveryType: choice.deliveryType,
      type: input.type === 'CC' ? 'CC_PFS' : 'HD_PFS',
      order,
      retailer,
      fromLocation: { ref: location.ref },
      fromAddress: location.primaryAddress ?? null,
      toAddress: deliveryAddress ?? location.primaryAddress ?? null,
      ...stamp
    })
    fulfilment.items = orderItems.map((item) => ({
      id: item.id,
      ref: item.ref,
      status: 'CREATED',
      requestedQuantity: item.quantity,
      filledQuantity: 0,
      rejectedQuantity: 0,
      fulfilment,
      orderItem: item
    }))
    Object.assign(order, { items: orderItems, fulfilments: [fulfilment] })
    Object.assign(fulfilmentChoice, { items: orderItems, fulfilments: [fulfilment] })
    return order
  }
}
