// The tenants file: who may call the gateway (API key digests) and which Fluent account each caller uses.
import { createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parse as parseYaml } from 'yaml'

const TenantSchema = Type.Object({
  id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }),
  apiKeys: Type.Array(Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }), { minItems: 1 }),
  fluent: Type.Object({
    baseUrl: Type.String({ pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$' }),
    clientId: Type.String({ minLength: 1 }),
    clientSecret: Type.String({ minLength: 1 }),
    username: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1 }),
    retailerId: Type.Optional(Type.String({ minLength: 1 })),
    catalogueRef: Type.Optional(Type.String({ minLength: 1 })),
    inventoryCatalogueRef: Type.Optional(Type.String({ minLength: 1 })),
    virtualCatalogueRef: Type.Optional(Type.String({ minLength: 1 }))
  }, { additionalProperties: false }),
  graphql: Type.Optional(Type.Object({
    allowMutations: Type.Optional(Type.Boolean())
  }, { additionalProperties: false })),
  webhooks: Type.Optional(Type.Object({
    publicKey: Type.Optional(Type.String({ minLength: 1 })),
    forwardUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
    forwardSecret: Type.Optional(Type.String({ minLength: 16 }))
  }, { additionalProperties: false }))
}, { additionalProperties: false })

const TenantsFileSchema = Type.Object({
  tenants: Type.Array(TenantSchema, { minItems: 1 })
}, { additionalProperties: false })

/** A tenant as the gateway uses it: defaults applied, key digests without their prefix. */
export interface Tenant {
  id: string
  apiKeyDigests: string[]
  fluent: {
    baseUrl: string
    clientId: string
    clientSecret: string
    username: string
    password: string
    retailerId?: string
    catalogueRef?: string
    /** Stock positions live here (GET /stock, stock loads and deltas); default `DEFAULT:{retailerId}`. */
    inventoryCatalogueRef?: string
    /** Availability is searched here (GET /availability); default `BASE:{retailerId}`. */
    virtualCatalogueRef?: string
  }
  graphql: { allowMutations: boolean }
  /** Absent or empty: webhooks for the tenant are refused. */
  webhooks?: {
    /** The Fluent environment's RSA key that signs its webhooks; without it every webhook for the tenant is refused. */
    publicKey?: KeyObject
    /** Where stored webhooks are pushed, signed with HMAC-SHA256 of forwardSecret. */
    forward?: { url: string, secret: string }
  }
}

/** A PEM public key, or base64 of its DER SubjectPublicKeyInfo (what Fluent's settings show); must be RSA. */
function parseWebhookPublicKey (text: string): KeyObject {
  const trimmed = text.trim()
  const key = trimmed.startsWith('-----BEGIN')
    ? createPublicKey(trimmed)
    : createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' })
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`it is a ${key.asymmetricKeyType ?? 'non-RSA'} key, and Fluent signs with RSA`)
  return key
}

function tenantWebhooks (id: string, webhooks: NonNullable<Static<typeof TenantSchema>['webhooks']>): NonNullable<Tenant['webhooks']> {
  const fail = (field: string, problem: string): never => { throw new Error(`tenants file is invalid: tenant '${id}': webhooks.${field} ${problem}`) }
  let publicKey: KeyObject | undefined
  if (webhooks.publicKey !== undefined) {
    try {
      publicKey = parseWebhookPublicKey(webhooks.publicKey)
    } catch (error) {
      fail('publicKey', `is not a PEM or base64 DER (SPKI) RSA public key: ${(error as Error).message}`)
    }
  }
  if ((webhooks.forwardUrl === undefined) !== (webhooks.forwardSecret === undefined)) {
    const [missing, present] = webhooks.forwardUrl === undefined ? ['forwardUrl', 'forwardSecret'] : ['forwardSecret', 'forwardUrl']
    fail(missing, `is required with ${present}: the push needs both the URL and the HMAC secret`)
  }
  if (webhooks.forwardUrl !== undefined) {
    try {
      const url = new URL(webhooks.forwardUrl)
      if (url.username !== '' || url.password !== '') fail('forwardUrl', 'must not carry credentials (the HMAC signature authenticates the push)')
    } catch (error) {
      if ((error as Error).message.startsWith('tenants file')) throw error
      fail('forwardUrl', 'is not a valid URL')
    }
  }
  return {
    ...(publicKey === undefined ? {} : { publicKey }),
    ...(webhooks.forwardUrl === undefined || webhooks.forwardSecret === undefined ? {} : { forward: { url: webhooks.forwardUrl, secret: webhooks.forwardSecret } })
  }
}

/** The tenant's inventory catalogue (stock positions, loads and deltas): as configured, else Fluent's `DEFAULT:{retailerId}`. */
export function inventoryCatalogueRef (tenant: Tenant): string | undefined {
  return tenant.fluent.inventoryCatalogueRef ?? (tenant.fluent.retailerId === undefined ? undefined : `DEFAULT:${tenant.fluent.retailerId}`)
}

/** The tenant's virtual catalogue (availability): as configured, else Fluent's `BASE:{retailerId}`. */
export function virtualCatalogueRef (tenant: Tenant): string | undefined {
  return tenant.fluent.virtualCatalogueRef ?? (tenant.fluent.retailerId === undefined ? undefined : `BASE:${tenant.fluent.retailerId}`)
}

/** Replaces every ${VAR} in every string; an unset variable is an error naming it and where it was used. */
function expandVariables (value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const replacement = env[name]
      if (replacement === undefined) {
        throw new Error(`tenants file: ${path} uses \${${name}}, but the environment variable ${name} is not set`)
      }
      return replacement
    })
  }
  if (Array.isArray(value)) return value.map((item, index) => expandVariables(item, env, `${path}[${index}]`))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandVariables(item, env, path === '' ? key : `${path}.${key}`)]))
  }
  return value
}

/** Names a schema error path like `tenant 'acme': fluent.baseUrl` so the operator finds it at once. */
function describePath (raw: unknown, pointer: string): string {
  const parts = pointer.split('/').filter((part) => part !== '')
  if (parts[0] === 'tenants' && parts[1] !== undefined) {
    const tenants = (raw as { tenants?: Array<{ id?: unknown }> }).tenants
    const id = tenants?.[Number(parts[1])]?.id
    const who = typeof id === 'string' ? `tenant '${id}'` : `tenants[${parts[1]}]`
    const field = parts.slice(2).join('.')
    return field === '' ? who : `${who}: ${field}`
  }
  return parts.join('.') || '(top level)'
}

/** Validates parsed tenants-file content and turns it into tenants; throws one Error listing every mistake. */
export function parseTenants (raw: unknown, env: NodeJS.ProcessEnv = process.env): Tenant[] {
  const expanded = expandVariables(raw, env, '')
  const problems = [...Value.Errors(TenantsFileSchema, expanded)].map((error) => `${describePath(expanded, error.path)} ${error.message}`)
  if (problems.length > 0) {
    throw new Error(`tenants file is invalid:\n  ${[...new Set(problems)].join('\n  ')}`)
  }
  const file = expanded as Static<typeof TenantsFileSchema>
  const seenIds = new Set<string>()
  const seenKeys = new Map<string, string>()
  const tenants: Tenant[] = []
  for (const entry of file.tenants) {
    if (seenIds.has(entry.id)) throw new Error(`tenants file is invalid: tenant id '${entry.id}' appears twice`)
    seenIds.add(entry.id)
    // The pattern admits any 1-5 digit port; undici would only fail on the first call, so refuse it at boot.
    const port = /:(\d+)\/?$/.exec(entry.fluent.baseUrl)?.[1]
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      throw new Error(`tenants file is invalid: tenant '${entry.id}': fluent.baseUrl has port ${port}, outside 1-65535`)
    }
    const apiKeyDigests = entry.apiKeys.map((key) => key.slice('sha256:'.length))
    for (const digest of apiKeyDigests) {
      const owner = seenKeys.get(digest)
      if (owner !== undefined) {
        throw new Error(`tenants file is invalid: tenant '${entry.id}' repeats an API key digest already used by tenant '${owner}'`)
      }
      seenKeys.set(digest, entry.id)
    }
    tenants.push({
      id: entry.id,
      apiKeyDigests,
      fluent: { ...entry.fluent, baseUrl: entry.fluent.baseUrl.replace(/\/$/, '') },
      graphql: { allowMutations: entry.graphql?.allowMutations ?? true },
      ...(entry.webhooks === undefined ? {} : { webhooks: tenantWebhooks(entry.id, entry.webhooks) })
    })
  }
  return tenants
}

/** Reads the tenants file (YAML, or JSON by its .json extension) and validates it. */
export function loadTenantsFile (path: string, env: NodeJS.ProcessEnv = process.env): Tenant[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`TENANTS_FILE: cannot read ${path}: ${(error as Error).message}`)
  }
  let raw: unknown
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text)
  } catch (error) {
    throw new Error(`TENANTS_FILE: ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`)
  }
  return parseTenants(raw, env)
}
