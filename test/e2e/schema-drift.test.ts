// The live schema check across replicas: two gateway processes on one Redis introspect once per interval between them,
// and a field Fluent drops turns the routes using it into 502 UPSTREAM_SCHEMA_DRIFT (nothing sent), the rest untouched.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse, stringify } from 'yaml'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator } from '../../src/simulator/types.js'
import { call, expectProblem, metricValue } from '../helpers/call.js'
import { ACCOUNT, newApiKey } from '../helpers/gateway.js'
import { startGatewayProcess, writeTenantsFile, type GatewayProcess, type TenantsFile } from '../helpers/gateway-process.js'

const INTERVAL_MS = 2_000

const ORDER_TOTAL = {
  operationId: 'orderTotal',
  method: 'GET',
  path: '/x/orders/{ref}/total',
  summary: 'An order\'s total',
  document: 'query OrderTotal($ref: String!) { order(ref: $ref) { ref totalPrice } }',
  variables: { ref: 'path.ref' },
  result: 'order'
}

async function until (what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

describe('live schema check across two replicas', () => {
  let sim: Simulator
  let tenantsFile: TenantsFile
  let dir: string
  const replicas: GatewayProcess[] = []
  const apiKey = newApiKey()

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    tenantsFile = writeTenantsFile([{ id: 'acme', apiKey }], sim.url)
    dir = mkdtempSync(join(tmpdir(), 'fgw-drift-'))
    const example = parse(readFileSync(new URL('../../routes.example.yaml', import.meta.url), 'utf8')) as { routes: unknown[] }
    const routesFile = join(dir, 'routes.yaml')
    writeFileSync(routesFile, stringify({ routes: [...example.routes, ORDER_TOTAL] }))
    const env = {
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
      ROUTES_FILE: routesFile,
      SCHEMA_CHECK_INTERVAL_MS: String(INTERVAL_MS),
      RATE_LIMIT_MAX: '0',
      MAX_EVENT_LOOP_DELAY_MS: '0'
    }
    replicas.push(...await Promise.all([startGatewayProcess({ tenantsFile: tenantsFile.path, env }), startGatewayProcess({ tenantsFile: tenantsFile.path, env })]))
  }, 60_000)

  afterAll(async () => {
    await Promise.all(replicas.map(async (replica) => { await replica.stop() }))
    await sim.close()
    tenantsFile.remove()
    rmSync(dir, { recursive: true, force: true })
  })

  const schemaOf = async (replica: GatewayProcess): Promise<unknown> => (await call(replica.url, '/readyz')).body?.schema?.acme

  it('reports ok, then drift when Fluent drops a field a route uses; that route answers 502 without calling Fluent, the others still work', async () => {
    await until('both replicas ok', async () => (await Promise.all(replicas.map(schemaOf))).every((state) => state === 'ok'), 20_000)
    const before = await call(replicas[0]?.url ?? '', '/x/orders/DEMO-ORDER-1/total', { apiKey })
    expect(before.status).toBe(200)
    expect(before.body).toEqual({ ref: 'DEMO-ORDER-1', totalPrice: 54 })

    const patched = await fetch(`${sim.url}/_sim/faults`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ removedFields: ['Order.totalPrice'] }) })
    expect(patched.status).toBeLessThan(300)
    await until('both replicas drift', async () => (await Promise.all(replicas.map(schemaOf))).every((state) => state === 'drift'), 4 * INTERVAL_MS + 5_000)

    for (const replica of replicas) {
      const readiness = await call(replica.url, '/readyz')
      expect(readiness.status).toBe(200)
      expect(readiness.body).toMatchObject({ status: 'ok', redis: 'up', schema: { acme: 'drift' } })
      const metrics = (await call(replica.url, '/metrics')).text
      expect(metricValue(metrics, 'fgw_schema_drift', { tenant: 'acme', route: 'orderTotal' })).toBe(1)
      expect(metricValue(metrics, 'fgw_schema_drift', { tenant: 'acme', route: 'locationStock' })).toBe(0)
      expect(metricValue(metrics, 'fgw_schema_drift', { tenant: 'acme', route: 'Customers' })).toBe(0)

      const sentBefore = sim.requests.filter((request) => request.operationName === 'OrderTotal').length
      const drifted = await call(replica.url, '/x/orders/DEMO-ORDER-1/total', { apiKey })
      expectProblem(drifted, 502, 'UPSTREAM_SCHEMA_DRIFT')
      expect(drifted.body.detail).toContain('orderTotal')
      expect(sim.requests.filter((request) => request.operationName === 'OrderTotal').length).toBe(sentBefore)
      expect((await call(replica.url, '/x/locations/LOC-SYD-01/stock', { apiKey })).status).toBe(200)
      expect((await call(replica.url, '/me', { apiKey })).status).toBe(200)

      const warning = replica.logs().find((line) => line.level === 40 && line.route === 'orderTotal')
      expect(warning).toMatchObject({ tenant: 'acme', route: 'orderTotal', error: expect.stringContaining('totalPrice') })
    }
  }, 60_000)

  it('introspects at most once per interval per tenant across both replicas', async () => {
    // Let a few more intervals pass, so the count covers steady state as well as boot and the drift.
    await sleep(2 * INTERVAL_MS)
    const introspections = sim.requests.filter((request) => request.operationName === 'IntrospectionQuery').map((request) => request.at)
    expect(introspections.length).toBeGreaterThanOrEqual(2)
    for (let index = 1; index < introspections.length; index++) {
      // The cache lives one interval from when the introspection was stored, which is after it was sent.
      expect((introspections[index] as number) - (introspections[index - 1] as number)).toBeGreaterThanOrEqual(INTERVAL_MS - 50)
    }
  }, 30_000)
})
