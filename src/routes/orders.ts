// /orders: create an HD or CC order (finding or creating its customer by email), read one by ref, list them (paged).
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Tenant } from '../config/tenants.js'
import { ConflictError, NotFoundError, UpstreamUnavailableError, ValidationFailedError, withExtras } from '../errors.js'
import type { CreateCustomerInput } from '../fluent/customers.js'
import type { CreateOrderInput, FluentOrder } from '../fluent/orders.js'
import type { FluentView } from '../fluent/view.js'
import type { Recovered } from '../plugins/idempotency.js'
import { AttributesSchema, PageQuerySchema, PageSchema, defined, flattenConnection } from '../schemas/common.js'
import { OrderSchema, type Order } from '../schemas/order.js'
import { problemResponses } from '../schemas/problem.js'
import { CommaListSchema, linkHeader, RefSchema, UpdatedSinceSchema, linkNext, splitList } from '../schemas/query.js'
import { CreateCustomerBodySchema, toCreateCustomerInput } from './customers.js'

const customerField = CreateCustomerBodySchema.properties

const OrderCustomerSchema = Type.Union([
  Type.Object({
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'id of an existing Fluent customer', examples: ['1001'] })
  }, { additionalProperties: false, description: 'an existing customer, by id' }),
  Type.Object({
    email: customerField.email,
    firstName: customerField.firstName,
    lastName: customerField.lastName,
    phone: customerField.phone
  }, { additionalProperties: false, description: 'a customer by email: found, or created as POST /customers would' })
], {
  description: 'the customer: `{id}` of an existing one, or `{email, firstName, lastName?, phone?}`, looked up by email and created when missing',
  examples: [{ email: 'jane.doe@example.com', firstName: 'Jane', lastName: 'Doe' }]
})

const OrderItemBodySchema = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 100, description: 'item reference, unique in the order', examples: ['HD-10001-1'] }),
  productRef: Type.String({ minLength: 1, maxLength: 100, description: 'product reference', examples: ['MUG-BLUE'] }),
  quantity: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'quantity ordered, at least 1', examples: [2] }),
  price: Type.Optional(Type.Number({ minimum: 0, description: 'unit price', examples: [12.5] })),
  paidPrice: Type.Optional(Type.Number({ minimum: 0, description: 'unit price paid, after discounts', examples: [12.5] })),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code', examples: ['AUD'] })),
  catalogueRef: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "product catalogue ref; the tenant's default when left out", examples: ['PC:MASTER:1'] })),
  attributes: Type.Optional(AttributesSchema)
}, { additionalProperties: false, description: 'an order item' })

const optionalText = (maxLength: number, description: string, example: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength, description, examples: [example] }))

const DeliveryAddressSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255, description: 'addressee', examples: ['Jane Doe'] }),
  street: Type.String({ minLength: 1, maxLength: 255, description: 'street', examples: ['10 Harbour Road'] }),
  city: Type.String({ minLength: 1, maxLength: 100, description: 'city', examples: ['Sydney'] }),
  postcode: Type.String({ minLength: 1, maxLength: 20, description: 'postcode', examples: ['2000'] }),
  country: Type.String({ minLength: 1, maxLength: 100, description: 'country', examples: ['AU'] }),
  state: optionalText(100, 'state', 'NSW'),
  street2: optionalText(255, 'second street line', 'Unit 4'),
  companyName: optionalText(255, 'company name', 'Acme Pty Ltd'),
  region: optionalText(100, 'region', 'Greater Sydney'),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 250, description: 'email for delivery notices', examples: ['jane.doe@example.com'] })),
  timeZone: optionalText(32, 'IANA time zone', 'Australia/Sydney'),
  latitude: Type.Optional(Type.Number({ minimum: -90, maximum: 90, description: 'latitude', examples: [-33.86] })),
  longitude: Type.Optional(Type.Number({ minimum: -180, maximum: 180, description: 'longitude', examples: [151.21] }))
}, { additionalProperties: false, description: 'the delivery address; Fluent gets it with ref `{orderRef}-DELIVERY`' })

const CreateOrderBodySchema = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 100, description: 'order reference, unique per retailer', examples: ['HD-10001'] }),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'order type, which picks the Fluent workflow: HD (the default), CC, or another the account has', examples: ['HD'] })),
  retailerId: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: "Fluent retailer id; the tenant's default when left out", examples: ['1'] })),
  customer: OrderCustomerSchema,
  items: Type.Array(OrderItemBodySchema, { minItems: 1, maxItems: 500, description: 'the items, 1 to 500' }),
  delivery: Type.Optional(Type.Object({
    type: optionalText(50, 'delivery type; STANDARD when left out', 'STANDARD'),
    address: Type.Optional(DeliveryAddressSchema),
    instructions: optionalText(500, 'delivery instructions', 'Leave at the door')
  }, { additionalProperties: false, description: 'how it is delivered; an HD order needs the address' })),
  pickupLocationRef: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'where a CC order is collected (required for CC)', examples: ['LOC-SYD-01'] })),
  totalPrice: Type.Optional(Type.Number({ minimum: 0, description: 'total price of the order', examples: [25] })),
  attributes: Type.Optional(AttributesSchema)
}, {
  additionalProperties: false,
  description: 'A new order',
  examples: [{
    ref: 'HD-10001',
    customer: { email: 'jane.doe@example.com', firstName: 'Jane', lastName: 'Doe' },
    items: [{ ref: 'HD-10001-1', productRef: 'MUG-BLUE', quantity: 2, price: 12.5, currency: 'AUD' }],
    delivery: { address: { name: 'Jane Doe', street: '10 Harbour Road', city: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' } },
    totalPrice: 25
  }]
})

type CreateOrderBody = Static<typeof CreateOrderBodySchema>

const OrderParamsSchema = Type.Object({ ref: RefSchema('order reference', 'DEMO-ORDER-1') })

const OrderQuerySchema = Type.Object({
  status: Type.Optional(CommaListSchema({ description: 'only orders in these statuses', example: 'CREATED,BOOKED', maxItems: 20, itemLength: 50 })),
  type: Type.Optional(CommaListSchema({ description: 'only orders of these types', example: 'HD', maxItems: 20, itemLength: 50 })),
  updatedSince: Type.Optional(UpdatedSinceSchema),
  ...PageQuerySchema
}, { additionalProperties: false })

function invalid (path: string, message: string): Error {
  return withExtras(new ValidationFailedError(`${path} ${message}`), { errors: [{ path, message }] })
}

/** The order as Fluent gets it, all but the customer's id; every refusal here happens before any Fluent call. */
export function toCreateOrderInput (body: CreateOrderBody, tenant: Tenant): Omit<CreateOrderInput, 'customer'> {
  const retailerId = body.retailerId ?? tenant.fluent.retailerId
  if (retailerId === undefined) throw invalid('/body/retailerId', `is required: tenant '${tenant.id}' has no default retailer`)
  const type = body.type ?? 'HD'
  const address = body.delivery?.address
  if (type === 'HD' && address === undefined) throw invalid('/body/delivery/address', 'is required for an HD order')
  if (type === 'CC' && body.pickupLocationRef === undefined) throw invalid('/body/pickupLocationRef', 'is required for a CC order')
  const seen = new Set<string>()
  const items = body.items.map((item, index) => {
    if (seen.has(item.ref)) throw invalid(`/body/items/${index}/ref`, `repeats item ref '${item.ref}'`)
    seen.add(item.ref)
    const catalogueRef = item.catalogueRef ?? tenant.fluent.catalogueRef
    if (catalogueRef === undefined) throw invalid(`/body/items/${index}/catalogueRef`, `is required: tenant '${tenant.id}' has no default catalogue`)
    return {
      ref: item.ref,
      productRef: item.productRef,
      productCatalogueRef: catalogueRef,
      quantity: item.quantity,
      ...defined({ price: item.price, paidPrice: item.paidPrice, currency: item.currency, attributes: item.attributes })
    }
  })
  return {
    ref: body.ref,
    type,
    retailer: { id: retailerId },
    items,
    fulfilmentChoice: {
      deliveryType: body.delivery?.type ?? 'STANDARD',
      ...defined({
        pickupLocationRef: body.pickupLocationRef,
        deliveryInstruction: body.delivery?.instructions,
        deliveryAddress: address === undefined ? undefined : { ref: `${body.ref}-DELIVERY`, ...address }
      })
    },
    ...defined({ totalPrice: body.totalPrice, attributes: body.attributes })
  }
}

/**
 * After an ambiguous first attempt (a 502/504 once the create may have reached Fluent), a retry that meets the
 * duplicate ref answers with the order that exists, as the first attempt's 201 would have: when it is that order
 * (same type and items), never someone else's.
 */
async function recoverOrder (request: FastifyRequest): Promise<Recovered | undefined> {
  const body = request.body as CreateOrderBody
  const found = await request.fluent.orders.byRef(body.ref)
  if (found === null) return undefined
  const order = toOrder(found)
  const sameItems = order.items.length === body.items.length &&
    body.items.every((item) => order.items.some((existing) => existing.ref === item.ref && existing.productRef === item.productRef && existing.quantity === item.quantity))
  if (order.type !== (body.type ?? 'HD') || !sameItems) return undefined
  return { status: 201, headers: { location: `/orders/${encodeURIComponent(order.ref ?? body.ref)}` }, body: order }
}

function toOrder (order: FluentOrder): Order {
  return {
    id: order.id,
    ref: order.ref ?? null,
    type: order.type,
    status: order.status ?? null,
    retailerId: order.retailer?.id ?? null,
    customerId: order.customer?.id ?? null,
    totalPrice: order.totalPrice ?? null,
    items: flattenConnection(order.items, (item) => ({
      ref: item.ref ?? null, productRef: item.product?.ref ?? null, quantity: item.quantity, price: item.price ?? null, status: item.status
    })).items,
    fulfilments: flattenConnection(order.fulfilments, (fulfilment) => ({
      id: fulfilment.id, ref: fulfilment.ref ?? null, status: fulfilment.status ?? null, locationRef: fulfilment.fromLocation?.ref ?? null
    })).items,
    createdOn: order.createdOn ?? null,
    updatedOn: order.updatedOn ?? null
  }
}

async function customerIdByEmail (fluent: FluentView, email: string): Promise<string | undefined> {
  const found = await fluent.customers.find({ email, first: 1 })
  return found?.edges?.find((edge) => edge?.node != null)?.node?.id
}

/**
 * The id of the order's customer: as given, or found by email, or created. A create that meets a duplicate lost a race
 * with another request for the same new email: the winner's customer is looked up again, so one email gets one customer.
 */
async function customerIdFor (fluent: FluentView, who: { id: string } | { email: string, create: CreateCustomerInput }): Promise<string> {
  if ('id' in who) return who.id
  const existing = await customerIdByEmail(fluent, who.email)
  if (existing !== undefined) return existing
  try {
    const created = await fluent.customers.create(who.create)
    if (created === null) throw new UpstreamUnavailableError('Fluent created no customer and gave no reason')
    return created.id
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error
    const winner = await customerIdByEmail(fluent, who.email)
    // A duplicate that is not this email's customer (another customer holds the username): the 409 stands.
    if (winner === undefined) throw error
    return winner
  }
}

const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/orders', {
    config: { idempotency: { recover: recoverOrder } },
    schema: {
      tags: ['orders'],
      operationId: 'createOrder',
      summary: 'Create an order (HD or CC)',
      description: 'Sends Fluent `createOrder` with one fulfilment choice. A customer given by `id` costs no other call; one given by ' +
        '`email` is looked up (`customers(primaryEmail)`) and, when missing, created with the `POST /customers` defaults. ' +
        "`type` defaults to HD, `retailerId` and each item's `catalogueRef` to the tenant's, `delivery.type` to STANDARD. " +
        'An HD order needs `delivery.address` (sent with ref `{ref}-DELIVERY`), a CC order `pickupLocationRef`. A duplicate ref is 409.',
      body: CreateOrderBodySchema,
      response: {
        201: {
          ...Type.Ref(OrderSchema),
          description: 'The order as Fluent created it; its address is in Location',
          headers: { location: { type: 'string', description: 'path of the new order', examples: ['/orders/HD-10001'] } }
        },
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { body, tenant } = request
    const input = toCreateOrderInput(body, tenant)
    const { customer } = body
    // Built before any call, so that a customer Fluent would refuse is a 400 that costs nothing.
    const who = 'id' in customer ? customer : { email: customer.email, create: toCreateCustomerInput({ ...customer, retailerId: input.retailer.id }, tenant) }
    const customerId = await customerIdFor(request.fluent, who)
    const created = await request.fluent.orders.create({ ...input, customer: { id: customerId } })
    if (created === null) throw new UpstreamUnavailableError('Fluent created no order and gave no reason')
    return await reply.code(201).header('location', `/orders/${encodeURIComponent(created.ref ?? body.ref)}`).send(toOrder(created))
  })

  app.get('/orders/:ref', {
    schema: {
      tags: ['orders'],
      operationId: 'getOrder',
      summary: 'Read an order by ref',
      description: 'Sends Fluent `order(ref:)` with its items and fulfilments; 404 when Fluent has no such order.',
      params: OrderParamsSchema,
      response: {
        200: { ...Type.Ref(OrderSchema), description: 'The order' },
        ...problemResponses(400, 401, 403, 404, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const order = await request.fluent.orders.byRef(request.params.ref)
    if (order === null) throw new NotFoundError(`order ${request.params.ref} does not exist`)
    return toOrder(order)
  })

  app.get('/orders', {
    schema: {
      tags: ['orders'],
      operationId: 'listOrders',
      summary: 'List orders',
      description: 'Sends Fluent `orders(status, type, updatedOn, first, after)`. Pages hold `limit` orders; follow `nextCursor` (or the Link rel="next" header) for the next.',
      querystring: OrderQuerySchema,
      response: {
        200: { ...PageSchema(Type.Ref(OrderSchema), 'the orders on this page'), description: 'A page of orders', headers: linkHeader('</orders?limit=20&cursor=Y3Vyc29yOjEwMjA%3D>; rel="next"') },
        ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { status, type, updatedSince, limit, cursor } = request.query
    const connection = await request.fluent.orders.find({ status: splitList(status), type: splitList(type), updatedSince, first: limit, after: cursor })
    const page = flattenConnection(connection, toOrder)
    linkNext(reply, '/orders', request.query, page.nextCursor)
    return page
  })
}

export default orderRoutes
