// The OpenAPI document tells a caller everything: error responses per operation, problem+json bodies, a description and example for every field.
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { OPENAPI_YAML_PATH } from '../../src/cli/openapi.js'
import { propertiesOf } from '../helpers/openapi.js'

type Json = Record<string, unknown>

interface Operation {
  operationId?: string
  security?: unknown[]
  requestBody?: { content?: Record<string, { schema?: Json }> }
  parameters?: Array<Json & { name: string, in: string, schema?: Json }>
  responses: Record<string, { description?: string, content?: Record<string, { schema?: Json }>, headers?: Record<string, Json> }>
}

const document = parse(await readFile(OPENAPI_YAML_PATH, 'utf8')) as {
  components: { schemas: Record<string, Json> }
  paths: Record<string, Record<string, Operation>>
}

const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })))

/** Operations that send something to Fluent; every other operation must be in LOCAL or PUBLIC, so a new route cannot slip past the lists. */
const FLUENT = [
  'getMe', 'createCustomer', 'listCustomers', 'getCustomer', 'createProduct', 'runGraphql',
  'createOrder', 'getOrder', 'listOrders', 'listFulfilments', 'getFulfilment', 'listLocations', 'getLocation', 'listStock', 'getAvailability',
  'adjustStock', 'loadStock', 'getStockImport', 'sendEvent'
]
/** Operations the gateway answers alone, for a caller with an API key. */
const LOCAL = ['listWebhookEvents', 'ackWebhookEvent']
const PUBLIC = ['healthz', 'readyz', 'receiveFluentWebhook']

const isAuthenticated = (operation: Operation): boolean => !(Array.isArray(operation.security) && operation.security.length === 0)
const hasExample = (schema: Json): boolean => schema.example !== undefined || (Array.isArray(schema.examples) && schema.examples.length > 0)

/** A schema shows an example in Swagger UI when it has one, or when it is a $ref, or an object or array made only of parts that do. */
function showsExample (schema: Json): boolean {
  if (hasExample(schema) || typeof schema.$ref === 'string') return true
  if (schema.items !== undefined) return showsExample(schema.items as Json)
  const properties = Object.values((schema.properties ?? {}) as Record<string, Json>)
  return properties.length > 0 && properties.every(showsExample)
}

function allSchemas (): Array<[string, Json]> {
  const found: Array<[string, Json]> = Object.entries(document.components.schemas).map(([name, schema]) => [`#/components/schemas/${name}`, schema])
  for (const { name, operation } of operations) {
    for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
      if (media.schema !== undefined) found.push([`${name} body (${type})`, media.schema])
    }
    for (const [status, response] of Object.entries(operation.responses)) {
      for (const [type, media] of Object.entries(response.content ?? {})) {
        if (media.schema !== undefined) found.push([`${name} ${status} (${type})`, media.schema])
      }
    }
  }
  return found
}

describe('openapi.yaml', () => {
  it('lists every operation as calling Fluent, as answered by the gateway alone, or as public', () => {
    const ids = operations.map(({ operation }) => operation.operationId).sort()
    expect(ids).toEqual([...FLUENT, ...LOCAL, ...PUBLIC].sort())
  })

  it('documents 401 on every operation that needs an API key, and only public operations go without one', () => {
    for (const { name, operation } of operations) {
      expect(isAuthenticated(operation), `${name} security`).toBe(!PUBLIC.includes(operation.operationId ?? ''))
      if (isAuthenticated(operation)) expect(Object.keys(operation.responses), `${name} responses`).toContain('401')
    }
  })

  it('documents 400 on every operation that takes a body, parameters or a query', () => {
    const withInput = operations.filter(({ operation }) => operation.requestBody !== undefined || (operation.parameters ?? []).length > 0)
    expect(withInput.length).toBeGreaterThan(0)
    for (const { name, operation } of withInput) expect(Object.keys(operation.responses), `${name} responses`).toContain('400')
  })

  it('documents what Fluent can answer (403, 422, 429, 502, 504) on every operation that calls Fluent', () => {
    for (const { name, operation } of operations.filter(({ operation }) => FLUENT.includes(operation.operationId ?? ''))) {
      expect(Object.keys(operation.responses), `${name} responses`).toEqual(expect.arrayContaining(['403', '422', '429', '502', '504']))
    }
  })

  it('describes every error response as application/problem+json with the Problem schema', () => {
    for (const { name, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue
        // /readyz answers 503 with its readiness body while draining: a state for load balancers, not an error.
        if (operation.operationId === 'readyz' && status === '503') continue
        expect(Object.keys(response.content ?? {}), `${name} ${status}`).toEqual(['application/problem+json'])
        const media = response.content?.['application/problem+json'] as { schema?: Json, example?: Json }
        expect(media.schema, `${name} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' })
        // Each status shows its own example, not the 400 the Problem schema's property examples would add up to.
        expect(media.example, `${name} ${status} example`).toMatchObject({ status: Number(status) })
        expect(response.description, `${name} ${status} description`).toContain(String(media.example?.code))
      }
    }
  })

  it('says which header carries Retry-After on 429 and 503 problems', () => {
    for (const { name, operation } of operations) {
      for (const status of ['429', '503']) {
        const response = operation.responses[status]
        if (response?.content?.['application/problem+json'] !== undefined) expect(Object.keys(response.headers ?? {}), `${name} ${status}`).toContain('retry-after')
      }
    }
  })

  it('gives every schema property a description and an example', () => {
    const properties = allSchemas().flatMap(([where, schema]) => propertiesOf(schema, where))
    expect(properties.length).toBeGreaterThan(50)
    const missing: string[] = []
    for (const [path, property] of properties) {
      if (typeof property.$ref !== 'string') {
        if (typeof property.description !== 'string' || property.description === '') missing.push(`${path}: no description`)
        if (!showsExample(property)) missing.push(`${path}: no example`)
      }
    }
    expect(missing).toEqual([])
  })

  it('gives every parameter a description and, unless only the gateway hands out its values, an example', () => {
    for (const { name, operation } of operations) {
      for (const parameter of operation.parameters ?? []) {
        expect(parameter.description, `${name} ${parameter.in} ${parameter.name}`).toEqual(expect.any(String))
        // Swagger UI fills parameters in from their examples: a made-up cursor would silently skip results.
        if (parameter.name === 'cursor' || parameter.name === 'after') {
          expect(parameter.example ?? parameter.schema?.examples, `${name} cursor`).toBeUndefined()
          continue
        }
        expect(parameter.example ?? parameter.schema?.examples, `${name} ${parameter.in} ${parameter.name}`).toBeDefined()
      }
    }
  })
})
