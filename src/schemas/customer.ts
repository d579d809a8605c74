// The customer as REST callers see it: shared by the customer routes and, through $ref, by the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox'
import { AttributeSchema, NullableString } from './common.js'

export const CustomerSchema = Type.Object({
  id: Type.String({ description: 'Fluent customer id', examples: ['1001'] }),
  username: NullableString('login name; defaults to the email', 'jane.doe@example.com'),
  email: NullableString('primary email', 'jane.doe@example.com'),
  firstName: NullableString('first name', 'Jane'),
  lastName: NullableString('last name', 'Doe'),
  phone: NullableString('primary phone', '+61 400 000 000'),
  title: NullableString('title', 'Ms'),
  department: NullableString('department', 'Wholesale'),
  country: NullableString('country', 'Australia'),
  timezone: NullableString('IANA time zone', 'Australia/Sydney'),
  promotionOptIn: Type.Union([Type.Boolean(), Type.Null()], { description: 'agreed to promotions', examples: [false] }),
  retailerId: NullableString('Fluent retailer id', '1'),
  status: NullableString('Fluent status', 'ACTIVE'),
  attributes: Type.Array(AttributeSchema, { description: 'custom attributes' }),
  createdOn: NullableString('creation time, ISO 8601', '2026-11-26T10:00:00.000Z'),
  updatedOn: NullableString('last change, ISO 8601', '2026-11-26T10:00:00.000Z')
}, { $id: 'Customer', title: 'Customer', description: 'A Fluent customer, in REST names' })

export type Customer = Static<typeof CustomerSchema>
