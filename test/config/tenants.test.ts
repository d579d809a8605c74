// Tests of the tenants file: YAML and JSON, variable expansion, and boot errors that say which tenant and field are wrong.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/index.js'
import { loadTenantsFile, parseTenants } from '../../src/config/tenants.js'

/** `${NAME}` as the tenants file spells a variable. */
const ref = (name: string): string => `$${'{'}${name}}`
const digest = (key: string): string => createHash('sha256').update(key).digest('hex')
const ACME_DIGEST = digest('acme-key')

function tenant (overrides: Record<string, unknown> = {}, fluent: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'acme',
    apiKeys: [`sha256:${ACME_DIGEST}`],
    fluent: { baseUrl: 'https://acme.sandbox.api.fluentretail.com', clientId: 'ACME', clientSecret: 's3cret', username: 'acme_integration', password: 'pa55', ...fluent },
    ...overrides
  }
}

describe('tenants file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-tenants-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  function file (name: string, text: string): string {
    const path = join(dir, name)
    writeFileSync(path, text)
    return path
  }

  it('reads YAML, expanding variables from the environment and applying defaults', () => {
    const path = file('tenants.yaml', `
tenants:
  - id: acme
    apiKeys:
      - sha256:${ACME_DIGEST}
    fluent:
      baseUrl: https://acme.sandbox.api.fluentretail.com/
      clientId: ACME
      clientSecret: \${ACME_CLIENT_SECRET}
      username: acme_integration
      password: pre-\${ACME_PASSWORD}-post
      retailerId: "1"
      catalogueRef: PC:MASTER:1
  - id: beta-2
    apiKeys: [sha256:${digest('beta-key')}]
    fluent: { baseUrl: "http://127.0.0.1:8080", clientId: B, clientSecret: b, username: b, password: b }
    graphql: { allowMutations: false }
`)

    expect(loadTenantsFile(path, { ACME_CLIENT_SECRET: 'from-env', ACME_PASSWORD: 'pw' })).toEqual([
      {
        id: 'acme',
        apiKeyDigests: [ACME_DIGEST],
        fluent: {
          baseUrl: 'https://acme.sandbox.api.fluentretail.com',
          clientId: 'ACME',
          clientSecret: 'from-env',
          username: 'acme_integration',
          password: 'pre-pw-post',
          retailerId: '1',
          catalogueRef: 'PC:MASTER:1'
        },
        graphql: { allowMutations: true }
      },
      {
        id: 'beta-2',
        apiKeyDigests: [digest('beta-key')],
        fluent: { baseUrl: 'http://127.0.0.1:8080', clientId: 'B', clientSecret: 'b', username: 'b', password: 'b' },
        graphql: { allowMutations: false }
      }
    ])
  })

  it('reads JSON by its .json extension', () => {
    const path = file('tenants.json', JSON.stringify({ tenants: [tenant({}, { clientSecret: ref('SECRET') })] }))

    expect(loadTenantsFile(path, { SECRET: 'x' })[0]).toMatchObject({ id: 'acme', fluent: { clientSecret: 'x' } })
  })

  it('is what loadConfig reads from TENANTS_FILE', () => {
    const path = file('config.yaml', `tenants:\n  - ${JSON.stringify(tenant())}\n`)

    expect(loadConfig({ TENANTS_FILE: path }).tenants.map((entry) => entry.id)).toEqual(['acme'])
  })

  it('names the unset variable and where it is used', () => {
    const path = file('unset.yaml', `tenants:\n  - ${JSON.stringify(tenant({}, { password: ref('ACME_PASSWORD') }))}\n`)

    expect(() => loadTenantsFile(path, {})).toThrow(`tenants[0].fluent.password uses ${ref('ACME_PASSWORD')}, but the environment variable ACME_PASSWORD is not set`)
  })

  it('names a file it cannot read, or cannot parse', () => {
    expect(() => loadTenantsFile(join(dir, 'missing.yaml'), {})).toThrow(/TENANTS_FILE: cannot read .*missing\.yaml/)
    expect(() => loadTenantsFile(file('broken.json', '{"tenants": ['), {})).toThrow(/broken\.json is not valid JSON/)
    expect(() => loadTenantsFile(file('broken.yaml', 'tenants:\n  - id: [unclosed\n'), {})).toThrow(/broken\.yaml is not valid YAML/)
  })

  it.each([
    ['a duplicate tenant id', [tenant(), tenant({ apiKeys: [`sha256:${digest('other')}`] })], "tenant id 'acme' appears twice"],
    ['an API key digest used by two tenants', [tenant(), tenant({ id: 'beta' })], "tenant 'beta' repeats an API key digest already used by tenant 'acme'"],
    ['a digest without its prefix', [tenant({ apiKeys: [ACME_DIGEST] })], "tenant 'acme': apiKeys.0"],
    ['a digest that is too short', [tenant({ apiKeys: ['sha256:abc'] })], "tenant 'acme': apiKeys.0"],
    ['a digest that is not hex', [tenant({ apiKeys: [`sha256:${'z'.repeat(64)}`] })], "tenant 'acme': apiKeys.0"],
    ['no API key', [tenant({ apiKeys: [] })], "tenant 'acme': apiKeys"],
    ['a baseUrl with a path', [tenant({}, { baseUrl: 'https://acme.example/api' })], "tenant 'acme': fluent.baseUrl"],
    ['a baseUrl that is not http(s)', [tenant({}, { baseUrl: 'ftp://acme.example' })], "tenant 'acme': fluent.baseUrl"],
    ['a baseUrl with a query', [tenant({}, { baseUrl: 'https://acme.example?x=1' })], "tenant 'acme': fluent.baseUrl"],
    ['a baseUrl with credentials', [tenant({}, { baseUrl: 'https://user:pw@acme.example' })], "tenant 'acme': fluent.baseUrl"],
    ['a baseUrl with a port out of range', [tenant({}, { baseUrl: 'https://acme.example:99999' })], "tenant 'acme': fluent.baseUrl has port 99999"],
    ['an unknown tenant field', [tenant({ retailer: '1' })], "tenant 'acme': retailer Unexpected property"],
    ['an unknown fluent field', [tenant({}, { secret: 'x' })], "tenant 'acme': fluent.secret Unexpected property"],
    ['an unknown graphql field', [tenant({ graphql: { allowMutation: false } })], "tenant 'acme': graphql.allowMutation Unexpected property"],
    ['a bad tenant id', [tenant({ id: 'Acme Corp' })], "tenant 'Acme Corp': id"],
    ['a missing password', [tenant({}, { password: undefined })], "tenant 'acme': fluent.password"],
    ['an empty secret from an empty variable', [tenant({}, { clientSecret: ref('EMPTY') })], "tenant 'acme': fluent.clientSecret"],
    ['allowMutations that is not a boolean', [tenant({ graphql: { allowMutations: 'no' } })], "tenant 'acme': graphql.allowMutations"]
  ])('refuses %s, saying which tenant and field', (_what, tenants, message) => {
    expect(() => parseTenants({ tenants: JSON.parse(JSON.stringify(tenants)) }, { EMPTY: '' })).toThrow(message)
  })

  it('refuses an empty file and one without tenants', () => {
    expect(() => parseTenants(null, {})).toThrow(/tenants file is invalid/)
    expect(() => parseTenants({ tenants: [] }, {})).toThrow(/tenants/)
    expect(() => parseTenants({ tenants: [tenant()], extra: 1 }, {})).toThrow(/extra Unexpected property/)
  })

  it('lists every mistake at once, and never a secret\'s value', () => {
    let message = ''
    try {
      parseTenants({ tenants: [tenant({ id: 'BAD' }, { baseUrl: 'nope', clientSecret: 'top-secret-value', password: '' })] }, {})
    } catch (error) {
      message = (error as Error).message
    }

    expect(message).toContain("tenant 'BAD': id")
    expect(message).toContain("tenant 'BAD': fluent.baseUrl")
    expect(message).toContain("tenant 'BAD': fluent.password")
    expect(message).not.toContain('top-secret-value')
  })
})
