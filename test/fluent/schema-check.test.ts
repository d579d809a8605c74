// The schema check on its own: states per tenant, drift refusals, one introspection per tenant across replicas sharing
// Redis, each replica alone without it, unknown (and nothing refused) when introspection fails.
import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { introspectionFromSchema } from 'graphql'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { Tenant } from '../../src/config/tenants.js'
import { builtInDocuments } from '../../src/fluent/documents.js'
import { SchemaCheck, type SchemaCheckOptions } from '../../src/fluent/schema-check.js'
import { fluentSchema } from '../../src/fluent/schema.js'
import { servedSchema } from '../../src/simulator/schema.js'

const tenant: Tenant = {
  id: 'acme',
  apiKeyDigests: [],
  fluent: { baseUrl: 'https://acme.example', clientId: 'C', clientSecret: 'S', username: 'u', password: 'p', retailerId: '1' },
  graphql: { allowMutations: true }
}

const FULL = introspectionFromSchema(fluentSchema())
const WITHOUT_DEPARTMENT = introspectionFromSchema(servedSchema(['Customer.department']))

interface Logged { level: string, object: Record<string, unknown>, message: string }

function harness (options: Partial<SchemaCheckOptions> & { answer?: () => unknown } = {}): { check: SchemaCheck, calls: () => number, logs: Logged[], drift: Array<[string, string, boolean]> } {
  let calls = 0
  const logs: Logged[] = []
  const drift: Array<[string, string, boolean]> = []
  const log = (level: string) => (object: Record<string, unknown>, message: string): void => { logs.push({ level, object, message }) }
  const check = new SchemaCheck({
    tenants: [tenant],
    documents: builtInDocuments(),
    intervalMs: 60_000,
    introspect: async () => {
      calls++
      await sleep(20)
      return (options.answer ?? (() => FULL))()
    },
    log: { warn: log('warn'), info: log('info'), debug: log('debug') },
    onDrift: (...args) => { drift.push(args) },
    ...options
  })
  return { check, calls: () => calls, logs, drift }
}

const redis = new Redis(inject('redisUrl'), { commandTimeout: 2_000 })
afterAll(() => { redis.disconnect() })

function shared (prefix: string): SchemaCheckOptions['redis'] {
  return {
    prefix,
    usable: () => true,
    client: {
      get: async (key) => await redis.get(key),
      set: async (key, value, ms, onlyIfAbsent) => (onlyIfAbsent ? await redis.set(key, value, 'PX', ms, 'NX') : await redis.set(key, value, 'PX', ms)) === 'OK',
      eval: async (script, key, arg) => await redis.eval(script, 1, key, arg)
    }
  }
}

describe('SchemaCheck', () => {
  it('is unknown until checked, then ok, refusing nothing', async () => {
    const { check, drift } = harness()
    expect(check.states()).toEqual({ acme: 'unknown' })
    await check.checkAll()
    expect(check.states()).toEqual({ acme: 'ok' })
    expect(check.refuses(tenant, 'Customers')).toBeUndefined()
    expect(drift).toContainEqual(['acme', 'Customers', false])
  })

  it('reports drift for the documents that no longer validate, once, and refuses only them', async () => {
    const { check, logs, drift } = harness({ answer: () => WITHOUT_DEPARTMENT })
    await check.checkAll()
    expect(check.states()).toEqual({ acme: 'drift' })
    expect(check.refuses(tenant, 'Customers')).toContain('Cannot query field "department" on type "Customer"')
    expect(check.refuses(tenant, 'CustomerById')).toContain('department')
    expect(check.refuses(tenant, 'Me')).toBeUndefined()
    // Only the gateway's own document under that name: a /graphql caller's Customers query goes through.
    const customers = builtInDocuments().find((document) => document.name === 'Customers')?.document ?? ''
    expect(check.refuses(tenant, 'Customers', customers)).toContain('department')
    expect(check.refuses(tenant, 'Customers', 'query Customers { customers { edges { node { id } } } }')).toBeUndefined()
    expect(drift).toContainEqual(['acme', 'Customers', true])
    expect(drift).toContainEqual(['acme', 'Me', false])
    const warnings = logs.filter((line) => line.level === 'warn')
    // Every built-in document that selects Customer.department, each named once.
    expect(warnings.map((line) => line.object.route).sort()).toEqual(['CreateCustomer', 'CustomerById', 'CustomerByUsername', 'Customers'])
    expect(warnings[0]?.object).toMatchObject({ tenant: 'acme', error: expect.stringContaining('department') })
    await check.checkAll()
    expect(logs.filter((line) => line.level === 'warn')).toHaveLength(4)
  })

  it('is unknown, and refuses nothing, when introspection fails', async () => {
    let fail = false
    const { check, logs } = harness({ answer: () => { if (fail) throw new Error('Fluent refused introspection'); return WITHOUT_DEPARTMENT } })
    await check.checkAll()
    expect(check.refuses(tenant, 'Customers')).toBeDefined()
    fail = true
    await check.checkAll()
    expect(check.states()).toEqual({ acme: 'unknown' })
    expect(check.refuses(tenant, 'Customers')).toBeUndefined()
    expect(logs.some((line) => line.level === 'warn' && /introspecting Fluent failed/.test(line.message))).toBe(true)
  })

  it('introspects each tenant once per interval across replicas sharing Redis', async () => {
    const prefix = `t${randomBytes(4).toString('hex')}:`
    const replicas = [harness({ redis: shared(prefix) }), harness({ redis: shared(prefix) }), harness({ redis: shared(prefix) })]
    await Promise.all(replicas.map(async ({ check }) => { await check.checkAll() }))
    expect(replicas.map(({ calls }) => calls()).reduce((a, b) => a + b)).toBe(1)
    expect(replicas.map(({ check }) => check.states())).toEqual([{ acme: 'ok' }, { acme: 'ok' }, { acme: 'ok' }])
    await Promise.all(replicas.map(async ({ check }) => { await check.checkAll() }))
    expect(replicas.map(({ calls }) => calls()).reduce((a, b) => a + b)).toBe(1)
    expect(await redis.pttl(`${prefix}schema:acme:introspection`)).toBeGreaterThan(50_000)
    expect(await redis.exists(`${prefix}schema:acme:lock`)).toBe(0)
  })

  it('introspects in each replica without Redis', async () => {
    const replicas = [harness(), harness()]
    await Promise.all(replicas.map(async ({ check }) => { await check.checkAll() }))
    expect(replicas.map(({ calls }) => calls())).toEqual([1, 1])
  })

  it('checks in the background once started, and not at all once stopped or with interval 0', async () => {
    const started = harness({ intervalMs: 60_000 })
    started.check.start()
    expect(started.check.states()).toEqual({ acme: 'unknown' })
    for (let wait = 0; wait < 50 && started.calls() === 0; wait++) await sleep(20)
    expect(started.calls()).toBe(1)
    started.check.stop()

    const stopped = harness()
    stopped.check.start()
    stopped.check.stop()
    const off = harness({ intervalMs: 0 })
    off.check.start()
    await sleep(100)
    expect([stopped.calls(), off.calls()]).toEqual([0, 0])
  })
})
