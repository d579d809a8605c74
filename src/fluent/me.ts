// Fluent's `me`: the user the tenant's credentials belong to.
import type { Tenant } from '../config/tenants.js'
import type { Attribute } from '../schemas/common.js'
import type { CallContext, FluentClient } from './client.js'

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

export async function me (client: FluentClient, tenant: Tenant, context: CallContext): Promise<FluentUser | null> {
  const data = await client.data<{ me: FluentUser | null }>(tenant, { query: ME, operationName: 'Me', kind: 'query' }, context)
  return data.me
}
