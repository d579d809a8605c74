// Fluent location operations: location(ref:) and locations, the address read through the Address interface.
import type { Connection } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentAddress {
  companyName?: string | null
  name?: string | null
  street?: string | null
  street2?: string | null
  city?: string | null
  state?: string | null
  postcode?: string | null
  region?: string | null
  country?: string | null
  latitude?: number | null
  longitude?: number | null
  timeZone?: string | null
}

export interface FluentLocation {
  id: string
  ref?: string | null
  name?: string | null
  type?: string | null
  status?: string | null
  primaryAddress?: FluentAddress | null
  createdOn?: string | null
  updatedOn?: string | null
}

const ADDRESS_FIELDS = 'companyName name street street2 city state postcode region country latitude longitude timeZone'

// primaryAddress is the Address interface: a location's is a StoreAddress, but each concrete type is asked for by name
// so that an address of either kind comes back whole.
const LOCATION_FIELDS = `id ref name type status createdOn updatedOn
    primaryAddress { ... on StoreAddress { ${ADDRESS_FIELDS} } ... on CustomerAddress { ${ADDRESS_FIELDS} } }`

export const LOCATION_BY_REF = `query LocationByRef($ref: String!) {
  location(ref: $ref) { ${LOCATION_FIELDS} }
}`

export const LOCATIONS = `query Locations($first: Int, $after: String) {
  locations(first: $first, after: $after) {
    edges { cursor node { ${LOCATION_FIELDS} } }
    pageInfo { hasNextPage }
  }
}`

export const locations = {
  async byRef (fluent: Caller, ref: string): Promise<FluentLocation | null> {
    const data = await fluent.data<{ location: FluentLocation | null }>({
      query: LOCATION_BY_REF, variables: { ref }, operationName: 'LocationByRef', kind: 'query'
    })
    return data.location
  },

  async find (fluent: Caller, page: { first: number, after?: string | undefined }): Promise<Connection<FluentLocation> | null> {
    const variables = { first: page.first, ...(page.after === undefined ? {} : { after: page.after }) }
    const data = await fluent.data<{ locations: Connection<FluentLocation> | null }>({
      query: LOCATIONS, variables, operationName: 'Locations', kind: 'query'
    })
    return data.locations
  }
}
