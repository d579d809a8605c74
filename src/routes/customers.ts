// /customers: create a customer, find customers by email (paged), read one by id.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import type { Tenant } from '../config/tenants.js'
import { NotFoundError, UpstreamUnavailableError, ValidationFailedError } from '../errors.js'
import type { CreateCustomerInput, FluentCustomer } from '../fluent/customers.js'
import { AttributesSchema, PageQuerySchema, PageSchema, defined, flattenConnection } from '../schemas/common.js'
import type { Recovered } from '../plugins/idempotency.js'
import { problemResponses } from '../schemas/problem.js'
import { CustomerSchema, type Customer } from '../schemas/customer.js'

// Length limits are Fluent's own (CreateCustomerInput), so an over-long field is a 400 here, not a Fluent rejection.
export const CreateCustomerBodySchema = Type.Object({
  email: Type.String({ format: 'email', maxLength: 250, description: 'primary email (Fluent primaryEmail)', examples: ['jane.doe@example.com'] }),
  firstName: Type.String({ minLength: 1, maxLength: 50, description: 'first name', examples: ['Jane'] }),
  lastName: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'last name', examples: ['Doe'] })),
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'primary phone (Fluent primaryPhone)', examples: ['+61 400 000 000'] })),
  title: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'title', examples: ['Ms'] })),
  department: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'department', examples: ['Wholesale'] })),
  country: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'country', examples: ['Australia'] })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'IANA time zone; UTC when left out', examples: ['Australia/Sydney'] })),
  promotionOptIn: Type.Optional(Type.Boolean({ description: 'agreed to promotions; false when left out', examples: [false] })),
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 250, description: 'login name; the email when left out', examples: ['jane.doe@example.com'] })),
  retailerId: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: "Fluent retailer id; the tenant's default when left out", examples: ['1'] })),
  attributes: Type.Optional(AttributesSchema)
}, {
  additionalProperties: false,
  description: 'A new customer',
  // Without retailerId and username, so that trying it in Swagger UI uses the tenant's defaults.
  examples: [{ email: 'jane.doe@example.com', firstName: 'Jane', lastName: 'Doe', timezone: 'Australia/Sydney', attributes: [{ name: 'loyaltyTier', type: 'STRING', value: 'GOLD' }] }]
})

const CustomerParamsSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Fluent customer id', examples: ['1001'] })
})

const CustomerQuerySchema = Type.Object({
  email: Type.Optional(Type.String({ minLength: 1, maxLength: 254, description: 'exact primary email to look for', examples: ['jane.doe@example.com'] })),
  ...PageQuerySchema
}, { additionalProperties: false })

type CreateCustomerBody = Static<typeof CreateCustomerBodySchema>

export function toCreateCustomerInput (body: CreateCustomerBody, tenant: Tenant): CreateCustomerInput {
  const retailerId = body.retailerId ?? tenant.fluent.retailerId
  if (retailerId === undefined) {
    throw new ValidationFailedError(`retailerId is required: tenant '${tenant.id}' has no default retailer`)
  }
  return {
    username: body.username ?? body.email,
    primaryEmail: body.email,
    timezone: body.timezone ?? 'UTC',
    promotionOptIn: body.promotionOptIn ?? false,
    retailer: { id: retailerId },
    ...defined({
      firstName: body.firstName,
      lastName: body.lastName,
      primaryPhone: body.phone,
      country: body.country,
      title: body.title,
      department: body.department,
      attributes: body.attributes
    })
  }
}

function toCustomer (customer: FluentCustomer): Customer {
  return {
    id: customer.id,
    username: customer.username ?? null,
    email: customer.primaryEmail ?? null,
    firstName: customer.firstName ?? null,
    lastName: customer.lastName ?? null,
    phone: customer.primaryPhone ?? null,
    title: customer.title ?? null,
    department: customer.department ?? null,
    country: customer.country ?? null,
    timezone: customer.timezone ?? null,
    promotionOptIn: customer.promotionOptIn ?? null,
    retailerId: customer.retailer?.id ?? null,
    status: customer.status ?? null,
    attributes: customer.attributes ?? [],
    createdOn: customer.createdOn ?? null,
    updatedOn: customer.updatedOn ?? null
  }
}

/** The answer of a create: 201, the customer's address in Location. */
function createdAnswer (customer: FluentCustomer): { status: 201, headers: { location: string }, body: Customer } {
  return { status: 201, headers: { location: `/customers/${encodeURIComponent(customer.id)}` }, body: toCustomer(customer) }
}

/**
 * After an ambiguous first attempt met Fluent's duplicate: the customer with the username that attempt sent, as its
 * 201 would have been; none (or one with another email, so not that attempt's) leaves the 409.
 */
async function recoverCustomer (request: FastifyRequest): Promise<Recovered | undefined> {
  const body = request.body as CreateCustomerBody
  const found = await request.fluent.customers.byUsername(body.username ?? body.email)
  if (found === null || found.primaryEmail?.toLowerCase() !== body.email.toLowerCase()) return undefined
  return createdAnswer(found)
}

const customerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/customers', {
    config: { idempotency: { recover: recoverCustomer } },
    schema: {
      tags: ['customers'],
      operationId: 'createCustomer',
      summary: 'Create a customer',
      description: 'Sends Fluent `createCustomer`. Optional fields left out are not sent; `timezone` defaults to UTC, `username` to the email, `retailerId` to the tenant\'s.',
      body: CreateCustomerBodySchema,
      response: {
        201: {
          ...Type.Ref(CustomerSchema),
          description: 'The customer as Fluent created it; its address is in Location',
          headers: { location: { type: 'string', description: 'path of the new customer', examples: ['/customers/1001'] } }
        },
        ...problemResponses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const created = await request.fluent.customers.create(toCreateCustomerInput(request.body, request.tenant))
    if (created === null) throw new UpstreamUnavailableError('Fluent created no customer and gave no reason')
    const answer = createdAnswer(created)
    return await reply.code(201).header('location', answer.headers.location).send(answer.body)
  })

  app.get('/customers', {
    schema: {
      tags: ['customers'],
      operationId: 'listCustomers',
      summary: 'Find customers by email',
      description: 'Sends Fluent `customers(primaryEmail, first, after)`. Pages hold `limit` items; follow `nextCursor` (or the Link rel="next" header) for the next.',
      querystring: CustomerQuerySchema,
      response: {
        200: {
          ...PageSchema(Type.Ref(CustomerSchema), 'the customers on this page'),
          description: 'A page of customers',
          headers: { link: { type: 'string', description: 'the next page, when there is one', examples: ['</customers?limit=20&cursor=Y3Vyc29yOjEwMjA%3D>; rel="next"'] } }
        },
        ...problemResponses(400, 401, 403, 422, 429, 502, 503, 504)
      }
    }
  }, async (request, reply) => {
    const { email, limit, cursor } = request.query
    const connection = await request.fluent.customers.find({ email, first: limit, after: cursor })
    const page = flattenConnection(connection, toCustomer)
    if (page.nextCursor !== null) {
      const next = new URLSearchParams({ ...(email === undefined ? {} : { email }), limit: String(limit), cursor: page.nextCursor })
      reply.header('link', `</customers?${next.toString()}>; rel="next"`)
    }
    return page
  })

  app.get('/customers/:id', {
    schema: {
      tags: ['customers'],
      operationId: 'getCustomer',
      summary: 'Read a customer',
      description: 'Sends Fluent `customerById`; 404 when Fluent has no such customer.',
      params: CustomerParamsSchema,
      response: {
        200: { ...Type.Ref(CustomerSchema), description: 'The customer' },
        ...problemResponses(400, 401, 403, 404, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const customer = await request.fluent.customers.byId(request.params.id)
    if (customer === null) throw new NotFoundError(`customer ${request.params.id} does not exist`)
    return toCustomer(customer)
  })
}

export default customerRoutes
