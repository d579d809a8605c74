// The location as REST callers see it: shared by the location routes and, through $ref, by the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox'
import { NullableString } from './common.js'

const NullableNumber = (description: string, example: number) =>
  Type.Union([Type.Number(), Type.Null()], { description, examples: [example] })

export const LocationSchema = Type.Object({
  id: Type.String({ description: 'Fluent location id', examples: ['1'] }),
  ref: NullableString('location reference', 'LOC-SYD-01'),
  name: NullableString('name', 'Sydney CBD Store'),
  type: NullableString('location type', 'STORE'),
  status: NullableString('Fluent status', 'ACTIVE'),
  address: Type.Union([Type.Object({
    companyName: NullableString('company name', 'Demo Retailer'),
    name: NullableString('address name', 'Sydney CBD Store'),
    street: NullableString('street', '1 George Street'),
    street2: NullableString('second street line', 'Level 2'),
    city: NullableString('city', 'Sydney'),
    state: NullableString('state', 'NSW'),
    postcode: NullableString('postcode', '2000'),
    region: NullableString('region', 'Greater Sydney'),
    country: NullableString('country', 'AU'),
    latitude: NullableNumber('latitude', -33.8688),
    longitude: NullableNumber('longitude', 151.2093),
    timeZone: NullableString('IANA time zone', 'Australia/Sydney')
  }, { description: 'the primary address' }), Type.Null()], {
    description: 'the primary address; null when Fluent has none',
    examples: [{ companyName: 'Demo Retailer', name: 'Sydney CBD Store', street: '1 George Street', street2: null, city: 'Sydney', state: 'NSW', postcode: '2000', region: null, country: 'AU', latitude: -33.8688, longitude: 151.2093, timeZone: 'Australia/Sydney' }]
  }),
  createdOn: NullableString('creation time, ISO 8601', '2026-11-26T10:00:00.000Z'),
  updatedOn: NullableString('last change, ISO 8601', '2026-11-26T10:00:00.000Z')
}, { $id: 'Location', title: 'Location', description: 'A Fluent location, in REST names' })

export type Location = Static<typeof LocationSchema>
