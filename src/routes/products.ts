// POST /products: create a standard product in the tenant's (or the given) catalogue.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Tenant } from '../config/tenants.js'
import { UpstreamUnavailableError, ValidationFailedError } from '../errors.js'
import type { CreateStandardProductInput, FluentProduct } from '../fluent/products.js'
import { AttributesSchema, defined } from '../schemas/common.js'
import type { Recovered } from '../plugins/idempotency.js'
import { problemResponses } from '../schemas/problem.js'
import { ProductSchema, type Product } from '../schemas/product.js'

const PriceSchema = Type.Object({
  value: Type.Number({ minimum: 0, description: 'amount', examples: [19.95] }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code', examples: ['AUD'] }),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'price type; RRP when left out', examples: ['RRP'] }))
}, { additionalProperties: false, description: 'a price' })

const CreateProductBodySchema = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 100, description: 'product reference, unique in its catalogue', examples: ['SKU-1001'] }),
  name: Type.String({ minLength: 1, maxLength: 255, description: 'product name', examples: ['Trail Runner 2'] }),
  gtin: Type.String({ minLength: 1, maxLength: 20, description: 'GTIN (EAN/UPC)', examples: ['09312345678907'] }),
  catalogueRef: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "product catalogue ref; the tenant's default when left out", examples: ['PC:MASTER:1'] })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'product type; STANDARD when left out', examples: ['STANDARD'] })),
  summary: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'short description', examples: ['Lightweight trail shoe'] })),
  price: Type.Optional(PriceSchema),
  prices: Type.Optional(Type.Array(PriceSchema, { minItems: 1, maxItems: 50, description: 'several prices (instead of price)' })),
  attributes: Type.Optional(AttributesSchema),
  categories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    maxItems: 100, description: 'refs of categories in the same catalogue', examples: [['SHOES']]
  }))
}, {
  additionalProperties: false,
  description: 'A new standard product',
  // One of price and prices, and no catalogueRef (the tenant's default): the example works as it is in Swagger UI.
  examples: [{ ref: 'SKU-1001', name: 'Trail Runner 2', gtin: '09312345678907', summary: 'Lightweight trail shoe', price: { value: 19.95, currency: 'AUD' } }]
})

type CreateProductBody = Static<typeof CreateProductBodySchema>

export function toCreateProductInput (body: CreateProductBody, tenant: Tenant): CreateStandardProductInput {
  const catalogueRef = body.catalogueRef ?? tenant.fluent.catalogueRef
  if (catalogueRef === undefined) {
    throw new ValidationFailedError(`catalogueRef is required: tenant '${tenant.id}' has no default catalogue`)
  }
  if (body.price !== undefined && body.prices !== undefined) {
    throw new ValidationFailedError('give either price or prices, not both')
  }
  const prices = body.prices ?? (body.price === undefined ? undefined : [body.price])
  return {
    ref: body.ref,
    catalogue: { ref: catalogueRef },
    type: body.type ?? 'STANDARD',
    gtin: body.gtin,
    name: body.name,
    ...defined({
      summary: body.summary,
      prices: prices?.map((price) => ({ type: price.type ?? 'RRP', currency: price.currency, value: price.value })),
      attributes: body.attributes,
      categories: body.categories?.map((ref) => ({ ref, catalogue: { ref: catalogueRef } }))
    })
  }
}

function toProduct (product: FluentProduct): Product {
  return {
    id: product.id,
    ref: product.ref,
    name: product.name,
    gtin: product.gtin,
    type: product.type,
    status: product.status ?? null,
    summary: product.summary ?? null,
    catalogueRef: product.catalogue?.ref ?? null,
    prices: product.prices ?? [],
    attributes: product.attributes ?? [],
    createdOn: product.createdOn ?? null,
    updatedOn: product.updatedOn ?? null
  }
}

/**
 * After an ambiguous first attempt met Fluent's duplicate: the product with that ref in that catalogue, as the first
 * attempt's 201 would have been; none (or one with another name or GTIN, so not that attempt's) leaves the 409.
 */
async function recoverProduct (request: FastifyRequest): Promise<Recovered | undefined> {
  const body = request.body as CreateProductBody
  const input = toCreateProductInput(body, request.tenant)
  const found = await request.fluent.products.byRef(input.ref, input.catalogue.ref)
  if (found === null || found.gtin !== body.gtin || found.name !== body.name) return undefined
  return { status: 201, body: toProduct(found) }
}

const productRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/products', {
    config: { idempotency: { recover: recoverProduct } },
    schema: {
      tags: ['products'],
      operationId: 'createProduct',
      summary: 'Create a standard product',
      description: 'Sends Fluent `createStandardProduct`. `catalogueRef` defaults to the tenant\'s, `type` to STANDARD, a price\'s `type` to RRP; optional fields left out are not sent.',
      body: CreateProductBodySchema,
      response: {
        201: { ...Type.Ref(ProductSchema), description: 'The product as Fluent created it' },
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const created = await request.fluent.products.create(toCreateProductInput(request.body, request.tenant))
    if (created === null) throw new UpstreamUnavailableError('Fluent created no product and gave no reason')
    return await reply.code(201).send(toProduct(created))
  })
}

export default productRoutes
