// Demo data of the Fluent simulator: three locations, four products with stock and availability, a customer and one HD order.
import type { Entity, SimulatorStore } from './store.js'

/** Refs of the demo data, for the demo and for tests. */
export const DEMO_SEED = {
  retailerId: '1',
  productCatalogueRef: 'PC:MASTER:1',
  inventoryCatalogueRef: 'DEFAULT:1',
  virtualCatalogueRef: 'BASE:1',
  locations: { sydney: 'LOC-SYD-01', melbourne: 'LOC-MEL-01', brisbane: 'DC-BNE-01' },
  products: ['MUG-BLUE', 'TEE-WHITE-M', 'BOTTLE-1L', 'CAP-BLACK'],
  customerUsername: 'shopper@example.com',
  orderRef: 'DEMO-ORDER-1'
} as const

const SEEDED_ON = '2026-01-05T00:00:00.000Z'

const locations = [
  { ref: DEMO_SEED.locations.sydney, name: 'Sydney CBD Store', type: 'STORE', street: '1 George Street', city: 'Sydney', state: 'NSW', postcode: '2000', latitude: -33.8688, longitude: 151.2093, timeZone: 'Australia/Sydney' },
  { ref: DEMO_SEED.locations.melbourne, name: 'Melbourne Central Store', type: 'STORE', street: '211 La Trobe Street', city: 'Melbourne', state: 'VIC', postcode: '3000', latitude: -37.8102, longitude: 144.9628, timeZone: 'Australia/Melbourne' },
  { ref: DEMO_SEED.locations.brisbane, name: 'Brisbane Distribution Centre', type: 'WAREHOUSE', street: '50 Distribution Way', city: 'Brisbane', state: 'QLD', postcode: '4000', latitude: -27.4698, longitude: 153.0251, timeZone: 'Australia/Brisbane' }
]

const products = [
  { ref: 'MUG-BLUE', name: 'Blue mug', gtin: '9300000000011', price: 12.5 },
  { ref: 'TEE-WHITE-M', name: 'White tee, medium', gtin: '9300000000028', price: 29 },
  { ref: 'BOTTLE-1L', name: 'Water bottle, 1 litre', gtin: '9300000000035', price: 24.95 },
  { ref: 'CAP-BLACK', name: 'Black cap', gtin: '9300000000042', price: 19.95 }
]

// onHand per product at Sydney, Melbourne, Brisbane; null: no position there.
const stock: Record<string, Array<number | null>> = {
  'MUG-BLUE': [12, 3, 240],
  'TEE-WHITE-M': [5, 0, 80],
  'BOTTLE-1L': [null, 8, 150],
  'CAP-BLACK': [2, 6, null]
}

export function seedDemoData (store: SimulatorStore): void {
  const stamp = { createdOn: SEEDED_ON, updatedOn: SEEDED_ON }
  const retailer = store.retailerById(DEMO_SEED.retailerId) as Entity
  const inventoryCatalogue = store.find('InventoryCatalogue', (catalogue) => catalogue.ref === DEMO_SEED.inventoryCatalogueRef)
  const virtualCatalogue = store.find('VirtualCatalogue', (catalogue) => catalogue.ref === DEMO_SEED.virtualCatalogueRef)

  const stored = locations.map(({ ref, name, type, timeZone, ...address }, index) => {
    const location = store.add('Location', {
      ref, name, type, status: 'ACTIVE', attributes: [], supportPhoneNumber: null, retailer, workflowRef: 'LOCATION::DEFAULT', workflowVersion: 1, ...stamp
    })
    location.primaryAddress = {
      ...address, id: String(index + 1), ref, name, type: 'PRIMARY', companyName: 'Demo Retailer', country: 'AU', timeZone, location, __typename: 'StoreAddress', ...stamp
    }
    return location
  })

  for (const product of products) {
    const standardProduct = store.createStandardProduct({
      ref: product.ref,
      catalogue: { ref: DEMO_SEED.productCatalogueRef },
      type: 'STANDARD',
      gtin: product.gtin,
      name: product.name,
      prices: [{ type: 'DEFAULT', currency: 'AUD', value: product.price }]
    })
    stock[product.ref]?.forEach((onHand, index) => {
      const location = stored[index] as Entity
      if (onHand === null) return
      const ref = `${product.ref}:${String(location.ref)}`
      const position = { ref, status: 'ACTIVE', workflowVersion: 1, attributes: [], productRef: product.ref, ...stamp }
      store.add('InventoryPosition', {
        ...position, type: 'LAST_ON_HAND', workflowRef: 'INVENTORY_POSITION::DEFAULT', onHand, locationRef: location.ref, location: location.primaryAddress, catalogue: inventoryCatalogue, product: standardProduct
      })
      // Available to sell: what is on hand less a safety buffer of one.
      store.add('VirtualPosition', {
        ...position, type: 'BASE', workflowRef: 'VIRTUAL_POSITION::BASE', quantity: Math.max(0, onHand - 1), groupRef: location.ref, catalogue: virtualCatalogue
      })
    })
  }

  const customer = store.createCustomer({
    username: DEMO_SEED.customerUsername,
    primaryEmail: DEMO_SEED.customerUsername,
    firstName: 'Sam',
    lastName: 'Shopper',
    timezone: 'Australia/Sydney',
    promotionOptIn: false,
    retailer: { id: retailer.id }
  })
  store.createOrder({
    ref: DEMO_SEED.orderRef,
    type: 'HD',
    retailer: { id: retailer.id },
    customer: { id: customer.id },
    totalPrice: 54,
    fulfilmentChoice: {
      deliveryType: 'STANDARD',
      deliveryAddress: { ref: 'DEMO-ADDRESS-1', name: 'Sam Shopper', street: '10 Harbour Road', city: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' }
    },
    items: [
      { ref: 'DEMO-ORDER-1-1', productRef: 'MUG-BLUE', quantity: 2, price: 12.5, currency: 'AUD' },
      { ref: 'DEMO-ORDER-1-2', productRef: 'TEE-WHITE-M', quantity: 1, price: 29, currency: 'AUD' }
    ]
  }, SEEDED_ON)
}
