// The fulfilment as REST callers see it: shared by the fulfilment routes and, through $ref, by the OpenAPI document.
import { Type, type Static } from '@sinclair/typebox'
import { NullableString } from './common.js'

const NullableInteger = (description: string, example: number) =>
  Type.Union([Type.Integer(), Type.Null()], { description, examples: [example] })

export const FulfilmentSchema = Type.Object({
  id: Type.String({ description: 'Fluent fulfilment id', examples: ['1001'] }),
  ref: NullableString('fulfilment reference', 'HD-10001-F1'),
  status: NullableString('Fluent status', 'CREATED'),
  type: Type.String({ description: 'fulfilment type', examples: ['HD_PFS'] }),
  deliveryType: NullableString('delivery type', 'STANDARD'),
  orderRef: NullableString('reference of its order', 'HD-10001'),
  locationRef: NullableString('the location it is fulfilled from', 'LOC-SYD-01'),
  items: Type.Array(Type.Object({
    id: Type.String({ description: 'Fluent fulfilment item id', examples: ['100101'] }),
    ref: NullableString('fulfilment item reference', 'HD-10001-1'),
    status: Type.String({ description: 'Fluent status of the item', examples: ['CREATED'] }),
    orderItemRef: NullableString('reference of the order item it fulfils', 'HD-10001-1'),
    productRef: NullableString('product reference', 'MUG-BLUE'),
    requestedQuantity: NullableInteger('quantity asked for', 2),
    filledQuantity: Type.Integer({ description: 'quantity filled so far', examples: [0] }),
    rejectedQuantity: Type.Integer({ description: 'quantity rejected', examples: [0] })
  }, { description: 'a fulfilment item' }), { description: 'the fulfilment items' }),
  createdOn: NullableString('creation time, ISO 8601', '2026-11-26T10:00:00.000Z'),
  updatedOn: NullableString('last change, ISO 8601', '2026-11-26T10:00:00.000Z')
}, { $id: 'Fulfilment', title: 'Fulfilment', description: 'A Fluent fulfilment, in REST names' })

export type Fulfilment = Static<typeof FulfilmentSchema>
