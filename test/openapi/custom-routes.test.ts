// Operator routes document themselves: tag custom, typed parameters with descriptions and examples, the body, a response
// schema from the selection, every problem response; and the whole document, routes included, passes redocly lint.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { loadEnv } from '../../src/config/env.js'
import { parseRoutes, readRoutesFile, type RouteEntry } from '../../src/config/routes.js'
import { parseTenants } from '../../src/config/tenants.js'
import { propertiesOf } from '../helpers/openapi.js'

type Json = Record<string, any>

const root = fileURLToPath(new URL('../../', import.meta.url))

const MORE: RouteEntry[] = [{
  operationId: 'createCustomerX',
  method: 'POST',
  path: '/x/customers',
  summary: 'Create a customer',
  document: 'mutation CreateCustomerX($input: CreateCustomerInput) { createCustomer(input: $input) { id __typename ref retailer { id } attributes { name type value } createdOn } }',
  variables: { input: 'body' },
  result: 'createCustomer',
  status: 201
}, {
  operationId: 'nodeKinds',
  method: 'GET',
  path: '/x/orders/{ref}',
  summary: 'Fragments merged into the answer',
  document: `query NodeKinds($ref: String) { order(ref: $ref) { id ...OrderBits ... on Order { status } } }
    fragment OrderBits on Order { ref type }`,
  variables: { ref: 'path.ref' },
  result: 'order'
}]

describe('OpenAPI for operator routes', () => {
  let app: FastifyInstance
  let document: Json
  let custom: Array<[string, Json]>

  beforeAll(async () => {
    const env = loadEnv({ TENANTS_FILE: '(none)', LOG_LEVEL: 'silent', SCHEMA_CHECK_INTERVAL_MS: '0' })
    const tenants = parseTenants({ tenants: [{ id: 'docs', apiKeys: [`sha256:${'0'.repeat(64)}`], fluent: { baseUrl: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } }] }, {})
    const example = readRoutesFile(join(root, 'routes.example.yaml')) as { routes: RouteEntry[] }
    app = await buildApp({ ...env, tenants, routes: parseRoutes({ routes: [...example.routes, ...MORE] }) })
    await app.ready()
    document = app.swagger() as Json
    custom = Object.entries(document.paths as Record<string, Json>).filter(([path]) => path.startsWith('/x/'))
      .flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => [`${method.toUpperCase()} ${path}`, operation as Json] as [string, Json]))
  })
  afterAll(async () => { await app.close() })

  it('lists every operator route under the tag custom with its operationId', () => {
    expect(custom.map(([, operation]) => operation.operationId).sort()).toEqual(['createCustomerX', 'locationOpeningHours', 'locationStock', 'nodeKinds', 'orderReturns'])
    for (const [name, operation] of custom) expect(operation.tags, name).toContain('custom')
    expect(Object.keys(document.paths)).toContain('/x/locations/{ref}/stock')
  })

  it('documents typed parameters, each with a description and (but the cursor) an example', () => {
    const stock = document.paths['/x/locations/{ref}/stock'].get as Json
    const byName = Object.fromEntries((stock.parameters as Json[]).map((parameter) => [parameter.name, parameter]))
    expect(byName.ref).toMatchObject({ in: 'path', required: true, schema: { type: 'array', items: { type: 'string' } } })
    expect(byName.limit).toMatchObject({ in: 'query', schema: { type: 'integer', maximum: 100 } })
    const returns = document.paths['/x/orders/{ref}/returns'].get as Json
    expect((returns.parameters as Json[]).find((parameter) => parameter.name === 'status')).toMatchObject({ in: 'query', schema: { type: 'array' } })
    for (const [name, operation] of custom) {
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        expect(parameter.description, `${name} ${parameter.name as string}`).toEqual(expect.any(String))
        if (parameter.name === 'cursor') expect(parameter.schema?.examples, `${name} cursor`).toBeUndefined()
        else expect(parameter.example ?? parameter.schema?.examples, `${name} ${parameter.name as string}`).toBeDefined()
      }
    }
  })

  it('documents an input-object body strictly: required from !, no unknown properties', () => {
    const body = document.paths['/x/customers'].post.requestBody.content['application/json'].schema as Json
    expect(body).toMatchObject({ type: 'object', additionalProperties: false, required: expect.arrayContaining(['username', 'primaryEmail', 'retailer']) })
    expect(body.properties.retailer).toMatchObject({ type: 'object', required: ['id'], additionalProperties: false })
    expect(body.properties.attributes).toMatchObject({ type: 'array', items: { type: 'object', required: expect.arrayContaining(['name', 'type', 'value']) } })
  })

  it('derives the response from the selection: nullability, lists, __typename, fragments merged', () => {
    const created = document.paths['/x/customers'].post.responses['201'].content['application/json'].schema as Json
    expect(created.properties.id).toMatchObject({ type: 'string' })
    expect(created.properties.__typename).toMatchObject({ type: 'string', examples: ['Customer'] })
    expect(created.properties.ref).toMatchObject({ anyOf: [{ type: 'string' }, { type: 'null' }] })
    expect(created.properties.createdOn.anyOf[0]).toMatchObject({ type: 'string', format: 'date-time' })
    expect(created.properties.attributes.anyOf[0]).toMatchObject({ type: 'array' })
    const order = document.paths['/x/orders/{ref}'].get.responses['200'].content['application/json'].schema as Json
    // Fragments on the object's own type always apply, so their fields are merged in as required.
    expect(Object.keys(order.properties).sort()).toEqual(['id', 'ref', 'status', 'type'])
    expect([...order.required].sort()).toEqual(['id', 'ref', 'status', 'type'])
    const page = document.paths['/x/locations/{ref}/stock'].get.responses['200'].content['application/json'].schema as Json
    expect(page).toMatchObject({ required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: { properties: { productRef: { type: 'string' } } } } } })
  })

  it('gives every property a description and an example', () => {
    const missing: string[] = []
    for (const [name, operation] of custom) {
      const schemas: Array<[string, unknown]> = [[`${name} body`, operation.requestBody?.content?.['application/json']?.schema]]
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) schemas.push([`${name} ${status}`, response.content?.['application/json']?.schema])
      for (const [where, schema] of schemas) {
        for (const [path, property] of propertiesOf(schema, where)) {
          if (typeof property.$ref === 'string') continue
          if (typeof property.description !== 'string' || property.description === '') missing.push(`${path}: no description`)
          if (!Array.isArray(property.examples) && property.example === undefined) missing.push(`${path}: no example`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  it('documents every problem response, 403 for mutations and 502 for drift included', () => {
    for (const [name, operation] of custom) {
      expect(Object.keys(operation.responses), name).toEqual(expect.arrayContaining(['400', '401', '403', '404', '422', '429', '502', '503', '504']))
      expect(operation.responses['502'].description, name).toContain('UPSTREAM_SCHEMA_DRIFT')
    }
  })

  it('passes redocly lint with no errors, operator routes included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fgw-openapi-'))
    try {
      const file = join(dir, 'openapi.yaml')
      writeFileSync(file, app.swagger({ yaml: true }))
      const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/redocly'), ['lint', file, '--config', join(root, 'redocly.yaml'), '--format=json'], {
        cwd: root,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
        timeout: 20_000
      }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
      const report = JSON.parse(stdout) as { totals: { errors: number }, problems: Array<{ severity: string, ruleId: string, message: string, location?: Array<{ pointer?: string }> }> }
      expect(report.problems.filter((problem) => problem.severity === 'error')
        .map((problem) => `${problem.ruleId} at ${problem.location?.[0]?.pointer ?? '?'}: ${problem.message}`)).toEqual([])
      expect(report.totals.errors).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)
})
