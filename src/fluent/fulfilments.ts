// Fluent fulfilment operations: fulfilmentById and fulfilments (by location, status, last change).
import type { Connection } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentFulfilmentItem {
  id: string
  ref?: string | null
  status: string
  requestedQuantity?: number | null
  filledQuantity: number
  rejectedQuantity: number
  orderItem?: { ref?: string | null, product?: { ref: string } | null } | null
}

export interface FluentFulfilment {
  id: string
  ref?: string | null
  status?: string | null
  type: string
  deliveryType?: string | null
  order?: { ref?: string | null } | null
  fromLocation?: { ref?: string | null } | null
  items?: Connection<FluentFulfilmentItem> | null
  createdOn?: string | null
  updatedOn?: string | null
}

const FULFILMENT_FIELDS = `id ref status type deliveryType createdOn updatedOn order { ref } fromLocation { ref }
    items(first: 500) { edges { node { id ref status requestedQuantity filledQuantity rejectedQuantity orderItem { ref product { ref } } } } }`

export const FULFILMENT_BY_ID = `query FulfilmentById($id: ID!) {
  fulfilmentById(id: $id) { ${FULFILMENT_FIELDS} }
}`

export const FULFILMENTS = `query Fulfilments($fromLocation: LocationLinkInput, $status: [String], $updatedOn: DateRange, $first: Int, $after: String) {
  fulfilments(fromLocation: $fromLocation, status: $status, updatedOn: $updatedOn, first: $first, after: $after) {
    edges { cursor node { ${FULFILMENT_FIELDS} } }
    pageInfo { hasNextPage }
  }
}`

export interface FulfilmentSearch {
  locationRef?: string | undefined
  status?: string[] | undefined
  updatedSince?: string | undefined
  first: number
  after?: string | undefined
}

export const fulfilments = {
  async byId (fluent: Caller, id: string): Promise<FluentFulfilment | null> {
    const data = await fluent.data<{ fulfilmentById: FluentFulfilment | null }>({
      query: FULFILMENT_BY_ID, variables: { id }, operationName: 'FulfilmentById', kind: 'query'
    })
    return data.fulfilmentById
  },

  async find (fluent: Caller, search: FulfilmentSearch): Promise<Connection<FluentFulfilment> | null> {
    const variables = {
      first: search.first,
      ...(search.locationRef === undefined ? {} : { fromLocation: { ref: search.locationRef } }),
      ...(search.status === undefined ? {} : { status: search.status }),
      ...(search.updatedSince === undefined ? {} : { updatedOn: { from: search.updatedSince } }),
      ...(search.after === undefined ? {} : { after: search.after })
    }
    const data = await fluent.data<{ fulfilments: Connection<FluentFulfilment> | null }>({
      query: FULFILMENTS, variables, operationName: 'Fulfilments', kind: 'query'
    })
    return data.fulfilments
  }
}
