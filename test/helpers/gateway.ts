// Starts the gateway on a loopback port against a simulator, with a tenant and a known API key, capturing its logs.
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { buildConfig, type Config } from '../../src/config/index.js'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator, SimulatorAccount, SimulatorOptions } from '../../src/simulator/types.js'
import { apiKeyLine, newApiKey as newKey } from '../../scripts/lib/local.js'

export const ACCOUNT: SimulatorAccount = {
  clientId: 'ACME',
  clientSecret: 'acme-client-secret-value',
  username: 'acme_integration',
  password: 'acme-password-value',
  retailerId: '1'
}

export interface TestTenant {
  id: string
  apiKey: string
  allowMutations?: boolean
  retailerId?: string | null
  catalogueRef?: string | null
  account?: SimulatorAccount
  /** The tenants file's webhooks entry (publicKey, forwardUrl, forwardSecret), as written there. */
  webhooks?: Record<string, string>
}

export function newApiKey (): string {
  return newKey('test')
}

export function tenantEntry (tenant: TestTenant, baseUrl: string): Record<string, unknown> {
  const account = tenant.account ?? ACCOUNT
  return {
    id: tenant.id,
    apiKeys: [apiKeyLine(tenant.apiKey)],
    fluent: {
      baseUrl,
      clientId: account.clientId,
      clientSecret: account.clientSecret,
      username: account.username,
      password: account.password,
      ...(tenant.retailerId === null ? {} : { retailerId: tenant.retailerId ?? '1' }),
      ...(tenant.catalogueRef === null ? {} : { catalogueRef: tenant.catalogueRef ?? 'PC:MASTER:1' })
    },
    graphql: { allowMutations: tenant.allowMutations ?? true },
    ...(tenant.webhooks === undefined ? {} : { webhooks: tenant.webhooks })
  }
}

/** A Config as loadConfig would make it, from env-style overrides and tenants pointing at `baseUrl`. */
export function testConfig (baseUrl: string, tenants: TestTenant[], env: Record<string, string | undefined> = {}): Config {
  // Rate limiting and load shedding are off unless a test turns them on: on a busy 2-core CI machine the event loop
  // lags, and the limit would count every test's requests; their own tests set them explicitly. So is the live schema
  // check: its introspection would add a token fetch and a GraphQL call to every test's counts.
  return buildConfig({
    env: {
      LOG_LEVEL: 'info',
      REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
      RATE_LIMIT_MAX: '0',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      SCHEMA_CHECK_INTERVAL_MS: '0',
      ...env
    },
    tenants: { tenants: tenants.map((tenant) => tenantEntry(tenant, baseUrl)) }
  })
}

/** Collects every log line the app writes. */
export class LogCapture extends Writable {
  readonly lines: string[] = []
  override _write (chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''))
    callback()
  }

  get text (): string {
    return this.lines.join('\n')
  }
}

export interface TestGateway {
  app: FastifyInstance
  url: string
  sim: Simulator
  apiKey: string
  config: Config
  logs: LogCapture
  close: () => Promise<void>
}

export interface GatewayOptions {
  redisUrl?: string
  env?: Record<string, string | undefined>
  tenants?: TestTenant[]
  /** Reuse a running simulator instead of starting one. */
  sim?: Simulator
  /** Options of the simulator started when `sim` is not given (e.g. demoData). */
  simulator?: Omit<SimulatorOptions, 'accounts'>
  /** buildApp options beyond the log stream (e.g. webhook forwarding timings). */
  build?: Omit<BuildOptions, 'logStream'>
}

export async function startGateway (options: GatewayOptions = {}): Promise<TestGateway> {
  const sim = options.sim ?? await startSimulator({ ...options.simulator, accounts: [ACCOUNT] })
  const apiKey = newApiKey()
  const tenants = options.tenants ?? [{ id: 'acme', apiKey }]
  const config = testConfig(sim.url, tenants, { ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }), ...options.env })
  const logs = new LogCapture()
  const app = await buildApp(config, { ...options.build, logStream: logs })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    sim,
    apiKey: tenants[0]?.apiKey ?? apiKey,
    config,
    logs,
    close: async () => {
      await app.close()
      if (options.sim === undefined) await sim.close()
    }
  }
}

/**
 * The test lifecycle of one gateway: started before the block's tests, closed after them, its simulator reset before
 * each test unless `reset` is false. The handle's fields are there once the block's tests run.
 */
export function useGateway (options: () => GatewayOptions, { reset = true }: { reset?: boolean } = {}): TestGateway {
  const handle = {} as TestGateway
  beforeAll(async () => { Object.assign(handle, await startGateway(options())) })
  afterAll(async () => { await handle.close?.() })
  if (reset) beforeEach(() => { handle.sim.reset() })
  return handle
}
