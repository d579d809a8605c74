// Fluent inventory reads: positions on hand (inventoryPositions) and where stock is available (searchVirtualInventory).
import type { Connection } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentInventoryPosition {
  productRef: string
  locationRef?: string | null
  onHand?: number | null
  status?: string | null
  updatedOn?: string | null
}

export interface FluentVirtualInventory {
  location?: { ref?: string | null, name?: string | null } | null
  virtualPositions?: Array<{ productRef?: string | null, quantity?: number | null } | null> | null
}

export const INVENTORY_POSITIONS = `query InventoryPositions($catalogue: InventoryCatalogueKey, $productRef: [String!], $locationRef: [String], $first: Int, $after: String) {
  inventoryPositions(catalogue: $catalogue, productRef: $productRef, locationRef: $locationRef, first: $first, after: $after) {
    edges { cursor node { productRef locationRef onHand status updatedOn } }
    pageInfo { hasNextPage }
  }
}`

export const SEARCH_VIRTUAL_INVENTORY = `query SearchVirtualInventory($virtualCatalogue: VirtualCatalogueKey!, $productQuantities: [ProductQuantityInput!]!, $orderByProximity: GeoCoordinateInput, $first: Int) {
  searchVirtualInventory(virtualCatalogue: $virtualCatalogue, productQuantities: $productQuantities, orderByProximity: $orderByProximity, first: $first) {
    edges { node { location { ref name } virtualPositions { productRef quantity } } }
  }
}`

export interface PositionSearch {
  catalogueRef: string
  productRefs?: string[] | undefined
  locationRefs?: string[] | undefined
  first: number
  after?: string | undefined
}

export interface AvailabilitySearch {
  virtualCatalogueRef: string
  products: Array<{ productRef: string, quantity: number }>
  near?: { latitude: number, longitude: number } | undefined
  first: number
}

export const inventory = {
  async positions (fluent: Caller, search: PositionSearch): Promise<Connection<FluentInventoryPosition> | null> {
    const variables = {
      catalogue: { ref: search.catalogueRef },
      first: search.first,
      ...(search.productRefs === undefined ? {} : { productRef: search.productRefs }),
      ...(search.locationRefs === undefined ? {} : { locationRef: search.locationRefs }),
      ...(search.after === undefined ? {} : { after: search.after })
    }
    const data = await fluent.data<{ inventoryPositions: Connection<FluentInventoryPosition> | null }>({
      query: INVENTORY_POSITIONS, variables, operationName: 'InventoryPositions', kind: 'query'
    })
    return data.inventoryPositions
  },

  async available (fluent: Caller, search: AvailabilitySearch): Promise<Connection<FluentVirtualInventory> | null> {
    const variables = {
      virtualCatalogue: { ref: search.virtualCatalogueRef },
      productQuantities: search.products,
      first: search.first,
      ...(search.near === undefined ? {} : { orderByProximity: search.near })
    }
    const data = await fluent.data<{ searchVirtualInventory: Connection<FluentVirtualInventory> | null }>({
      query: SEARCH_VIRTUAL_INVENTORY, variables, operationName: 'SearchVirtualInventory', kind: 'query'
    })
    return data.searchVirtualInventory
  }
}
