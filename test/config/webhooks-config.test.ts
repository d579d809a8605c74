// The tenants file's webhooks entry: the Fluent key is parsed once at boot (PEM or base64 DER), and a bad one stops boot naming the tenant and field.
import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { parseTenants } from '../../src/config/tenants.js'

/** `${NAME}` as the tenants file spells a variable. */
const ref = (name: string): string => `$${'{'}${name}}`
const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString()
const DER_BASE64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')

function tenants (webhooks: Record<string, unknown>): Record<string, unknown> {
  return {
    tenants: [{
      id: 'acme',
      apiKeys: [`sha256:${'a'.repeat(64)}`],
      fluent: { baseUrl: 'https://acme.sandbox.api.fluentretail.com', clientId: 'ACME', clientSecret: 's', username: 'u', password: 'p' },
      webhooks
    }]
  }
}

describe('tenants file: webhooks', () => {
  it.each([['PEM', PEM], ['base64 DER', DER_BASE64], ['base64 DER with line breaks', DER_BASE64.replace(/(.{64})/g, '$1\n')]])('reads the public key as %s', (_name, text) => {
    const [tenant] = parseTenants(tenants({ publicKey: text }))
    expect(tenant?.webhooks?.publicKey?.export({ type: 'spki', format: 'pem' })).toBe(PEM)
  })

  it('expands environment variables in the webhook fields', () => {
    const [tenant] = parseTenants(tenants({ publicKey: ref('KEY'), forwardUrl: 'https://erp.acme.example/in', forwardSecret: ref('SECRET') }), { KEY: PEM, SECRET: 'x'.repeat(32) })
    expect(tenant?.webhooks?.forward).toEqual({ url: 'https://erp.acme.example/in', secret: 'x'.repeat(32) })
  })

  it('leaves webhooks out when the tenant has none', () => {
    const raw = tenants({})
    delete ((raw.tenants as Array<Record<string, unknown>>)[0])?.webhooks
    expect(parseTenants(raw)[0]?.webhooks).toBeUndefined()
  })

  it.each([
    ['a key that is not one', { publicKey: 'not a key' }, "tenant 'acme': webhooks.publicKey is not a PEM or base64 DER (SPKI) RSA public key"],
    ['a key that is not RSA', { publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }, "tenant 'acme': webhooks.publicKey"],
    ['a forwardUrl without its secret', { forwardUrl: 'https://erp.acme.example/in' }, "tenant 'acme': webhooks.forwardSecret is required with forwardUrl"],
    ['a forwardSecret without its URL', { forwardSecret: 'x'.repeat(32) }, "tenant 'acme': webhooks.forwardUrl is required with forwardSecret"],
    ['a forwardUrl with credentials', { forwardUrl: 'https://user:pw@erp.acme.example/in', forwardSecret: 'x'.repeat(32) }, "tenant 'acme': webhooks.forwardUrl must not carry credentials"],
    ['a short forwardSecret', { forwardUrl: 'https://erp.acme.example/in', forwardSecret: 'short' }, "tenant 'acme': webhooks.forwardSecret"],
    ['an unknown field', { publicKey: PEM, secret: 'x' }, "tenant 'acme': webhooks"]
  ])('stops boot on %s, naming the tenant and field', (_name, webhooks, message) => {
    expect(() => parseTenants(tenants(webhooks))).toThrow(message)
  })
})
