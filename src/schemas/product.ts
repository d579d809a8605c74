// The standard product as REST callers see it.
import { Type, type Static } from '@sinclair/typebox'
import { AttributeSchema, NullableString } from './common.js'

export const ProductSchema = Type.Object({
  id: Type.String({ description: 'Fluent product id', examples: ['2001'] }),
  ref: Type.String({ description: 'product reference, unique in its catalogue', examples: ['SKU-1001'] }),
  name: Type.String({ description: 'product name', examples: ['Trail Runner 2'] }),
  gtin: Type.String({ description: 'GTIN (EAN/UPC)', examples: ['09312345678907'] }),
  type: Type.String({ description: 'product type', examples: ['STANDARD'] }),
  status: NullableString('Fluent status', 'CREATED'),
  summary: NullableString('short description', 'Lightweight trail shoe'),
  catalogueRef: NullableString('product catalogue ref', 'PC:MASTER:1'),
  prices: Type.Array(Type.Object({
    type: Type.String({ description: 'price type', examples: ['RRP'] }),
    currency: Type.String({ description: 'currency', examples: ['AUD'] }),
    value: Type.Number({ description: 'amount', examples: [19.95] })
  }), { description: 'prices' }),
  attributes: Type.Array(AttributeSchema, { description: 'custom attributes' }),
  createdOn: NullableString('creation time, ISO 8601', '2026-11-26T10:00:00.000Z'),
  updatedOn: NullableString('last change, ISO 8601', '2026-11-26T10:00:00.000Z')
}, { $id: 'Product', title: 'Product', description: 'A Fluent standard product, in REST names' })

export type Product = Static<typeof ProductSchema>
