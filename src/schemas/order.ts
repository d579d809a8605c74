// The order as REST callers see it: shared by the order routes and, through $ref, by the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox'
import { NullableString } from './common.js'

const NullableNumber = (description: string, example: number) =>
  Type.Union([Type.Number(), Type.Null()], { description, examples: [example] })

export const OrderSchema = Type.Object({
  id: Type.String({ description: 'Fluent order id', examples: ['1001'] }),
  ref: NullableString('order reference, unique per retailer', 'HD-10001'),
  type: Type.String({ description: 'order type, which picks the Fluent workflow (HD, CC, ...)', examples: ['HD'] }),
  status: NullableString('Fluent status', 'CREATED'),
  retailerId: NullableString('Fluent retailer id', '1'),
  customerId: NullableString('Fluent customer id', '1001'),
  totalPrice: NullableNumber('total price', 54),
  items: Type.Array(Type.Object({
    ref: NullableString('order item reference', 'HD-10001-1'),
    productRef: NullableString('product reference', 'MUG-BLUE'),
    quantity: Type.Integer({ description: 'quantity ordered', examples: [2] }),
    price: NullableNumber('unit price', 12.5),
    status: Type.String({ description: 'Fluent status of the item', examples: ['CREATED'] })
  }, { description: 'an order item' }), { description: 'the order items' }),
  fulfilments: Type.Array(Type.Object({
    id: Type.String({ description: 'Fluent fulfilment id (GET /fulfilments/{id})', examples: ['1001'] }),
    ref: NullableString('fulfilment reference', 'HD-10001-F1'),
    status: NullableString('Fluent status of the fulfilment', 'CREATED'),
    locationRef: NullableString('the location it is fulfilled from', 'LOC-SYD-01')
  }, { description: 'a fulfilment of the order' }), { description: 'the fulfilments Fluent has made of the order so far' }),
  createdOn: NullableString('creation time, ISO 8601', '2026-11-26T10:00:00.000Z'),
  updatedOn: NullableString('last change, ISO 8601', '2026-11-26T10:00:00.000Z')
}, { $id: 'Order', title: 'Order', description: 'A Fluent order, in REST names' })

export type Order = Static<typeof OrderSchema>
