// The Fluent user behind a tenant's credentials, as GET /me answers it.
import { Type, type Static } from '@sinclair/typebox'
import { NullableString } from './common.js'

export const UserSchema = Type.Object({
  id: Type.String({ description: 'Fluent user id', examples: ['5'] }),
  ref: Type.String({ description: 'Fluent user ref', examples: ['acme_integration'] }),
  username: Type.String({ description: 'login name of the tenant\'s Fluent account', examples: ['acme_integration'] }),
  type: Type.String({ description: 'Fluent user type', examples: ['ADMIN'] }),
  status: NullableString('Fluent status', 'ACTIVE'),
  title: NullableString('title', 'Mr'),
  firstName: NullableString('first name', 'Acme'),
  lastName: NullableString('last name', 'Integration'),
  email: NullableString('primary email', 'integration@acme.example'),
  phone: NullableString('primary phone', '+61 400 000 000'),
  timezone: NullableString('IANA time zone', 'UTC'),
  retailerId: NullableString('id of the user\'s primary retailer', '1')
}, { $id: 'User', title: 'User', description: 'The Fluent user the tenant\'s credentials belong to' })

export type User = Static<typeof UserSchema>
