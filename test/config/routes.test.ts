// The routes file is validated at boot: good files load, and each kind of mistake stops boot naming the route and the problem.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildConfig } from '../../src/config/index.js'
import { checkRoutes, loadRoutesFile, parseRoutes, type RouteEntry } from '../../src/config/routes.js'

const STOCK: RouteEntry = {
  operationId: 'locationStock',
  method: 'GET',
  path: '/x/locations/{ref}/stock',
  summary: 'Stock at one location',
  document: `query LocationStock($ref: [String], $first: Int, $after: String) {
    inventoryPositions(locationRef: $ref, first: $first, after: $after) { edges { cursor node { productRef onHand updatedOn } } } }`,
  variables: { ref: 'path.ref' },
  result: 'inventoryPositions',
  paginate: true
}

const ME: RouteEntry = {
  operationId: 'whoAmI',
  method: 'GET',
  path: '/x/me',
  summary: 'Me',
  document: 'query WhoAmI { me { id username primaryRetailer { id } } }',
  result: 'me.primaryRetailer'
}

/** The one problem a file with these routes has. */
function problemOf (...routes: RouteEntry[]): string {
  const { problems } = checkRoutes({ routes })
  expect(problems).toHaveLength(1)
  return problems[0] as string
}

describe('routes file', () => {
  it('loads routes.example.yaml: every route validates against the bundled schema', () => {
    const routes = loadRoutesFile(new URL('../../routes.example.yaml', import.meta.url).pathname)
    expect(routes.map((route) => route.operationId)).toEqual(['locationStock', 'orderReturns', 'locationOpeningHours'])
    expect(routes.map((route) => route.url)).toEqual(['/x/locations/:ref/stock', '/x/orders/:ref/returns', '/x/locations/:ref/opening-hours'])
  })

  it('turns a good route into a typed route', () => {
    const [route] = parseRoutes({ routes: [STOCK] })
    expect(route).toMatchObject({ kind: 'query', operationName: 'LocationStock', paginate: true, result: ['inventoryPositions'], status: 200 })
    expect(route?.variables.map((variable) => [variable.variable, variable.source])).toEqual([
      ['ref', { from: 'path', name: 'ref' }], ['first', { from: 'page', name: 'first' }], ['after', { from: 'page', name: 'after' }]
    ])
    expect(route?.listPath).toEqual(['ref'])
    expect(route?.schemas.querystring).toMatchObject({ properties: { limit: { type: 'integer', default: 20 }, cursor: { type: 'string' } } })
  })

  it.each([
    ['an unknown field', { ...ME, document: 'query WhoAmI { me { id shoeSize } }', result: 'me' }, 'Cannot query field "shoeSize" on type "User"'],
    ['a wrong argument type', { ...STOCK, document: STOCK.document.replace('$first: Int', '$first: String') }, 'Variable "$first" of type "String" used in position expecting type "Int"'],
    ['a variable with no source', { ...STOCK, variables: {} }, 'variables: $ref has no source'],
    ['a source naming no variable', { ...STOCK, variables: { ref: 'path.ref', other: 'query.other' } }, "variables: 'other' is not a variable of the document"],
    ['an unknown source', { ...STOCK, variables: { ref: 'header.ref' } }, "variables: 'ref' has an unknown source 'header.ref'"],
    ['an unknown tenant source', { ...STOCK, variables: { ref: 'tenant.password' } }, "unknown source 'tenant.password'"],
    ['an unused path parameter', { ...ME, path: '/x/me/{id}' }, 'path parameter {id} is not used by any variable'],
    ['a path source the path lacks', { ...STOCK, path: '/x/stock' }, 'comes from path.ref, but the path has no {ref}'],
    ['a path outside /x/', { ...ME, path: '/me' }, "path '/me' must be under /x/"],
    ['a result the selection does not contain', { ...ME, result: 'me.ref' }, "result 'me.ref': the selection has no 'ref' under me"],
    ['paginate on a non-connection', { ...ME, result: 'me', paginate: true }, "paginate: result 'me' is a User, not a connection"],
    ['two operations in one document', { ...ME, document: 'query WhoAmI { me { id } } query Other { me { id } }' }, 'document must hold exactly one operation; it holds 2'],
    ['a document that does not parse', { ...ME, document: 'query { me { id }' }, 'document does not parse'],
    ['a body source on a GET', { ...ME, document: 'query WhoAmI($id: ID!) { customerById(id: $id) { id } }', variables: { id: 'body.id' }, result: 'customerById' }, 'comes from the body, but a GET has none'],
    ['an input object from the query string', {
      ...ME, method: 'GET', document: 'query WhoAmI($range: DateRange) { customers(createdOn: $range) { edges { node { id } } } }', variables: { range: 'query.range' }, result: 'customers'
    }, 'which a query string cannot hold']
  ] as Array<[string, RouteEntry, string]>)('refuses %s, naming the route', (_what, route, message) => {
    const problem = problemOf(route)
    expect(problem).toContain(`route '${route.operationId}': `)
    expect(problem).toContain(message)
  })

  it('refuses a duplicate method + path, and a duplicate operationId', () => {
    expect(problemOf(STOCK, { ...STOCK, operationId: 'again', path: '/x/locations/{id}/stock', variables: { ref: 'path.id' } }))
      .toBe("route 'again': GET /x/locations/{id}/stock is already route 'locationStock'")
    expect(problemOf(STOCK, { ...ME, operationId: 'locationStock' })).toBe("route 'locationStock': operationId appears twice")
  })

  it('refuses an operationId that is a built-in operation name', () => {
    expect(problemOf({ ...ME, operationId: 'Customers' })).toContain('built-in operation')
  })

  it('refuses a malformed entry, naming it', () => {
    expect(checkRoutes({ routes: [{ ...ME, method: 'HEAD' }] }).problems[0]).toMatch(/^route 'whoAmI': method/)
  })

  it('stops buildConfig with the route and the problem when ROUTES_FILE is bad', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fgw-routes-'))
    const path = join(dir, 'routes.yaml')
    writeFileSync(path, 'routes:\n  - operationId: whoAmI\n    method: GET\n    path: /x/me\n    summary: Me\n    document: "query WhoAmI { me { shoeSize } }"\n')
    const tenants = { tenants: [{ id: 'acme', apiKeys: [`sha256:${'a'.repeat(64)}`], fluent: { baseUrl: 'http://127.0.0.1:9', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } }] }
    expect(() => buildConfig({ env: { ROUTES_FILE: path }, tenants })).toThrow(/route 'whoAmI': document does not validate against Fluent's schema: Cannot query field "shoeSize"/)
    expect(buildConfig({ env: {}, tenants }).routes).toEqual([])
  })
})
