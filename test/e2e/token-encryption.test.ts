// TOKEN_ENCRYPTION_KEY end to end: what Redis holds is no token in any encoding, and a restarted gateway still reuses it.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'

const redis = new Redis(inject('redisUrl'), { lazyConnect: true })
const tenants = [{ id: 'sealed', apiKey: newApiKey() }]
let sim: Simulator

async function getMe (gateway: TestGateway): Promise<number> {
  return (await call(gateway, '/me')).status
}

function encodings (secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const forms = [secret, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')]
  // The simulator's tokens are hex: their raw bytes could be encoded too.
  if (/^[0-9a-f]+$/.test(secret)) {
    const raw = Buffer.from(secret, 'hex')
    forms.push(raw.toString('base64'), raw.toString('base64url'), raw.toString('base64').replace(/=+$/, ''))
  }
  return forms
}

beforeAll(async () => {
  await redis.connect()
  sim = await startSimulator({ accounts: [ACCOUNT] })
  sim.faults.issueRefreshToken = true
})
afterAll(async () => {
  await redis.quit()
  await sim.close()
})

describe('tokens encrypted at rest', () => {
  it('stores no token in any encoding, and a restarted gateway with the same key reuses the stored one', async () => {
    const env = { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), REDIS_KEY_PREFIX: `te${randomBytes(4).toString('hex')}:` }
    const first = await startGateway({ sim, redisUrl: inject('redisUrl'), tenants, env })
    try {
      expect(await getMe(first)).toBe(200)
    } finally {
      await first.close()
    }
    const accessToken = String(sim.requests[0]?.headers.authorization).replace(/^Bearer /, '')
    expect(accessToken).toMatch(/^[0-9a-f]{64}$/)

    const keys = await redis.keys(`${env.REDIS_KEY_PREFIX}token:*`)
    expect(keys).toHaveLength(1)
    const stored = await redis.get(keys[0] ?? '') ?? ''
    expect(stored).not.toBe('')
    for (const form of encodings(accessToken)) expect(stored).not.toContain(form)
    expect(stored).not.toContain('refresh')
    expect(stored).not.toContain('accessToken')

    const restarted = await startGateway({ sim, redisUrl: inject('redisUrl'), tenants, env })
    try {
      expect(await getMe(restarted)).toBe(200)
    } finally {
      await restarted.close()
    }
    expect(sim.counters.tokenRequests).toBe(1)
    expect(sim.requests[1]?.headers.authorization).toBe(`Bearer ${accessToken}`)
    // Nothing in the logs either.
    expect(first.logs.text + restarted.logs.text).not.toContain(accessToken)
  })

  it('treats a token sealed with another key as a miss, not a crash, and fetches a new one', async () => {
    const prefix = `te${randomBytes(4).toString('hex')}:`
    const before = sim.counters.tokenRequests
    const sealed = async (): Promise<string[]> => {
      const keys = await redis.keys(`${prefix}token:*`)
      return await Promise.all(keys.map(async (key) => await redis.get(key) ?? ''))
    }
    const runWithKey = async (key: Buffer): Promise<void> => {
      const gateway = await startGateway({ sim, redisUrl: inject('redisUrl'), tenants, env: { TOKEN_ENCRYPTION_KEY: key.toString('base64'), REDIS_KEY_PREFIX: prefix } })
      try {
        expect(await getMe(gateway)).toBe(200)
      } finally {
        await gateway.close()
      }
    }

    await runWithKey(randomBytes(32))
    // The second gateway finds a token there, sealed with the first one's key.
    const first = await sealed()
    expect(first).toHaveLength(1)
    expect(first[0]).toMatch(/^v1:/)
    await runWithKey(randomBytes(32))

    expect(sim.counters.tokenRequests - before).toBe(2)
    // It replaced it with its own.
    const second = await sealed()
    expect(second).toHaveLength(1)
    expect(second[0]).toMatch(/^v1:/)
    expect(second[0]).not.toBe(first[0])
  })

  it('does not read a token copied under another tenant\'s key', async () => {
    const prefix = `te${randomBytes(4).toString('hex')}:`
    const env = { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), REDIS_KEY_PREFIX: prefix }
    const both = [{ id: 'owner', apiKey: newApiKey() }, { id: 'thief', apiKey: newApiKey() }]
    const gateway = await startGateway({ sim, redisUrl: inject('redisUrl'), tenants: both, env })
    try {
      expect(await getMe(gateway)).toBe(200)
      const [ownerKey] = await redis.keys(`${prefix}token:owner:*`)
      expect(ownerKey).toBeDefined()
      // Same Fluent account, so the fingerprint part of the key is the same; only the tenant id differs.
      const thiefKey = (ownerKey ?? '').replace(':token:owner:', ':token:thief:')
      expect(thiefKey).not.toBe(ownerKey)
      expect(await redis.copy(ownerKey ?? '', thiefKey)).toBe(1)
      const before = sim.counters.tokenRequests
      const thief = await call(gateway, '/me', { apiKey: both[1]!.apiKey })
      expect(thief.status).toBe(200)
      expect(sim.counters.tokenRequests - before).toBe(1)
      const thiefToken = sim.requests.at(-1)?.headers.authorization
      expect(thiefToken).not.toBe(sim.requests.at(-2)?.headers.authorization)
    } finally {
      await gateway.close()
    }
  })
})
