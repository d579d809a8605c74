// Tests of `npm run apikey` (scripts/apikey.js): a new key each run, and a sha256: line the tenants file accepts for that key.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { parseTenants } from '../../src/config/tenants.js'

const script = fileURLToPath(new URL('../../scripts/apikey.js', import.meta.url))

async function runApikey (): Promise<{ key: string, line: string }> {
  const { stdout } = await promisify(execFile)(process.execPath, [script], { encoding: 'utf8' })
  const key = /API key[^:]*: (\S+)$/m.exec(stdout)?.[1]
  const line = /(sha256:\S+)$/m.exec(stdout)?.[1]
  if (key === undefined || line === undefined) throw new Error(`unexpected output:\n${stdout}`)
  return { key, line }
}

describe('npm run apikey', () => {
  it('prints a key and the sha256: line of that same key', async () => {
    const { key, line } = await runApikey()

    expect(key.length).toBeGreaterThanOrEqual(32)
    expect(key).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(line).toBe(`sha256:${createHash('sha256').update(key).digest('hex')}`)
  })

  it('prints a line the tenants file accepts, selecting the tenant by that key\'s digest', async () => {
    const { key, line } = await runApikey()
    const [tenant] = parseTenants({
      tenants: [{ id: 'acme', apiKeys: [line], fluent: { baseUrl: 'https://acme.example', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' } }]
    }, {})

    expect(tenant?.apiKeyDigests).toEqual([createHash('sha256').update(key).digest('hex')])
  })

  it('prints a different key each run', async () => {
    const [first, second] = await Promise.all([runApikey(), runApikey()])

    expect(first.key).not.toBe(second.key)
  })
})
