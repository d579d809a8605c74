// Fluent's `me`: the user the tenant's credentials belong to.
import type { Attribute } from '../schemas/common.js'
import type { Caller } from './view.js'

export interface FluentUser {
  id: string
  ref: string
  username: string
  type: string
  status?: string | null
  title?: string | null
  firstName?: string | null
  lastName?: string | null
  primaryEmail?: string | null
  primaryPhone?: string | null
  timezone?: string | null
  primaryRetailer?: { id: string, ref?: string | null } | null
  attributes?: Attribute[] | null
}

export const ME = `query Me {
  me { id ref username type status title firstName lastName primaryEmail primaryPhone timezone
    primaryRetailer { id ref } attributes { name type value } }
}`

export const me = {
  async get (fluent: Caller): Promise<FluentUser | null> {
    const data = await fluent.data<{ me: FluentUser | null }>({ query: ME, operationName: 'Me', kind: 'query' })
    return data.me
  }
}
