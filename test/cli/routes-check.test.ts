// `npm run routes:check`: exit 0 when ROUTES_FILE and the built-in documents validate, 1 with one line per problem;
// --live validates against each tenant's introspected schema.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routesCheck } from '../../src/cli/routes-check.js'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator } from '../../src/simulator/types.js'
import { ACCOUNT, newApiKey } from '../helpers/gateway.js'
import { writeTenantsFile, type TenantsFile } from '../helpers/gateway-process.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE = join(root, 'routes.example.yaml')

const BAD = `routes:
  - operationId: whoAmI
    method: GET
    path: /x/me
    summary: Me
    document: "query WhoAmI { me { shoeSize } }"
  - operationId: stray
    method: GET
    path: /x/stray/{id}
    summary: Stray
    document: "query Stray { me { id } }"
`

async function run (env: Record<string, string>): Promise<{ code: number, stdout: string, stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/routes-check.ts'], {
      cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env }, timeout: 30_000
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: number, stdout?: string, stderr?: string }
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

describe('routes:check', () => {
  let dir: string
  let bad: string
  let sim: Simulator
  let tenants: TenantsFile

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fgw-routes-check-'))
    bad = join(dir, 'bad.yaml')
    writeFileSync(bad, BAD)
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    tenants = writeTenantsFile([{ id: 'acme', apiKey: newApiKey() }], sim.url)
  })
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    tenants.remove()
    await sim.close()
  })

  it('exits 0 for the example routes file and the built-in documents', async () => {
    const result = await run({ ROUTES_FILE: EXAMPLE })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('ok: ROUTES_FILE and the built-in documents validate against the bundled schema')
  }, 40_000)

  it('exits 1 with one line per problem, each naming its route', async () => {
    const result = await run({ ROUTES_FILE: bad })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^route 'whoAmI': document does not validate against Fluent's schema: Cannot query field "shoeSize"/),
      "route 'stray': path parameter {id} is not used by any variable (path.id)"
    ])
  }, 40_000)

  it('exits 1 naming the file when ROUTES_FILE cannot be read', async () => {
    const result = await routesCheck([], { ROUTES_FILE: join(dir, 'missing.yaml') })
    expect(result.code).toBe(1)
    expect(result.lines[0]).toMatch(/^ROUTES_FILE: cannot read/)
  })

  it('with --live, validates against each tenant\'s introspected schema, and fails when Fluent dropped a field a route uses', async () => {
    const env = { ROUTES_FILE: EXAMPLE, TENANTS_FILE: tenants.path }
    expect(await routesCheck(['--live'], env)).toEqual({ code: 0, lines: ["tenant 'acme': ok: ROUTES_FILE and the built-in documents validate"] })
    expect(sim.requests.filter((request) => request.operationName === 'IntrospectionQuery')).toHaveLength(1)

    sim.faults.removedFields = ['InventoryPosition.onHand', 'Customer.department']
    const drifted = await routesCheck(['--live'], env)
    expect(drifted.code).toBe(1)
    expect(drifted.lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^tenant 'acme': route 'locationStock': document does not validate .*onHand/),
      expect.stringMatching(/^tenant 'acme': built-in Customers: .*department/)
    ]))
  })

  it('with --live, needs TENANTS_FILE', async () => {
    const result = await routesCheck(['--live'], { ROUTES_FILE: EXAMPLE })
    expect(result.code).toBe(1)
    expect(result.lines[0]).toContain('TENANTS_FILE')
  })
})
