// Request validation: bodies strictly (no coercion, unknown properties refused), query strings and params coerced from text.
import { Ajv, type Options as AjvOptions } from 'ajv'
import formats from 'ajv-formats'
import fp from 'fastify-plugin'
import { CustomerSchema } from '../schemas/customer.js'
import { FulfilmentSchema } from '../schemas/fulfilment.js'
import { LocationSchema } from '../schemas/location.js'
import { OrderSchema } from '../schemas/order.js'
import { ProblemSchema } from '../schemas/problem.js'
import { ProductSchema } from '../schemas/product.js'
import { UserSchema } from '../schemas/user.js'

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on .default.
const addFormats = formats as unknown as typeof formats.default

/** Schemas routes refer to by $ref (and OpenAPI lists under components). */
const SHARED_SCHEMAS = [ProblemSchema, UserSchema, CustomerSchema, ProductSchema, OrderSchema, FulfilmentSchema, LocationSchema]

function ajv (coerceTypes: AjvOptions['coerceTypes']): Ajv {
  const instance = new Ajv({ allErrors: true, coerceTypes, useDefaults: true, removeAdditional: false, strict: false })
  addFormats(instance)
  return instance
}

export default fp(async function validationPlugin (app) {
  const strict = ajv(false)
  const coercing = ajv('array')
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema))
  // Shared schemas live in the root context: Fastify rebuilds a child context's validator with its default compiler
  // when that child adds schemas, which would undo the strict compiler above.
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema)
}, { name: 'validation' })
