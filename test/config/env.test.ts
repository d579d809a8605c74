// Tests of environment validation: defaults, and a boot error that names the variable for every bad value.
import { describe, expect, it } from 'vitest'
import { loadEnv } from '../../src/config/env.js'

const base = { TENANTS_FILE: '/etc/gateway/tenants.yaml' }

describe('loadEnv', () => {
  it('applies the documented defaults', () => {
    expect(loadEnv(base)).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      TENANTS_FILE: base.TENANTS_FILE,
      REDIS_KEY_PREFIX: 'fgw:',
      FLUENT_TIMEOUT_MS: 15_000
    })
    expect(loadEnv(base).REDIS_URL).toBeUndefined()
    expect(loadEnv(base).TOKEN_ENCRYPTION_KEY).toBeUndefined()
  })

  it('reads numbers and strings from their text', () => {
    const env = loadEnv({
      ...base,
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      REDIS_URL: 'rediss://cache.internal:6380/2',
      REDIS_KEY_PREFIX: 'gw:',
      FLUENT_TIMEOUT_MS: '2500',
      TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64')
    })

    expect(env).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', LOG_LEVEL: 'debug', REDIS_URL: 'rediss://cache.internal:6380/2', REDIS_KEY_PREFIX: 'gw:', FLUENT_TIMEOUT_MS: 2500 })
  })

  it.each([
    ['PORT', 'abc', /PORT must be integer/],
    ['PORT', '70000', /PORT must be <= 65535/],
    ['PORT', '80.5', /PORT must be integer/],
    ['LOG_LEVEL', 'verbose', /^env\/LOG_LEVEL must be equal to one of the allowed values$/],
    ['REDIS_URL', 'http://cache:6379', /REDIS_URL must match pattern/],
    ['FLUENT_TIMEOUT_MS', '50', /FLUENT_TIMEOUT_MS must be >= 100/],
    ['FLUENT_TIMEOUT_MS', 'soon', /FLUENT_TIMEOUT_MS must be integer/],
    ['TOKEN_ENCRYPTION_KEY', Buffer.alloc(16).toString('base64'), /TOKEN_ENCRYPTION_KEY must be base64 of exactly 32 bytes/],
    ['TOKEN_ENCRYPTION_KEY', 'not base64 at all', /TOKEN_ENCRYPTION_KEY/],
    // Node's base64 decoder would skip the stray characters and find 32 bytes.
    ['TOKEN_ENCRYPTION_KEY', `!!!!${Buffer.alloc(32, 7).toString('base64')}@@`, /TOKEN_ENCRYPTION_KEY must be base64 of exactly 32 bytes/],
    ['PORT', '0', /PORT must be >= 1/],
    ['SHUTDOWN_DRAIN_DELAY_MS', '30000', /SHUTDOWN_GRACE_MS \(25000\) must be longer than SHUTDOWN_DRAIN_DELAY_MS \(30000\)/]
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    expect(() => loadEnv({ ...base, [name]: value })).toThrow(message)
  })

  it('refuses a missing TENANTS_FILE, naming it', () => {
    expect(() => loadEnv({})).toThrow(/TENANTS_FILE/)
  })

  it('never puts the value of a refused secret in the message', () => {
    const key = Buffer.from('sixteen byte key').toString('base64')

    expect(() => loadEnv({ ...base, TOKEN_ENCRYPTION_KEY: key })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(key) }))
  })
})
