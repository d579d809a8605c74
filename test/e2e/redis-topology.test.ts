// Redis Sentinel and Cluster through configuration: which ioredis options the environment builds, and real ones end to end.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadEnv } from '../../src/config/env.js'
import { redisTarget } from '../../src/redis/connection.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway } from '../helpers/gateway.js'
import { freePort } from '../helpers/redis-server.js'

const base = { TENANTS_FILE: '/dev/null' }

describe('Redis topology from the environment', () => {
  it('builds a standalone client from REDIS_URL with a short command timeout and no offline queue', () => {
    const target = redisTarget(loadEnv({ ...base, REDIS_URL: 'redis://cache:6379/2' }))
    expect(target).toMatchObject({
      mode: 'standalone',
      url: 'redis://cache:6379/2',
      options: { commandTimeout: 250, enableOfflineQueue: false, maxRetriesPerRequest: 0 }
    })
  })

  it('builds a Sentinel client from REDIS_SENTINELS and REDIS_SENTINEL_NAME, with both passwords', () => {
    const target = redisTarget(loadEnv({
      ...base,
      REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26379,[::1]:26380',
      REDIS_SENTINEL_NAME: 'fgw',
      REDIS_PASSWORD: 'data-secret',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_COMMAND_TIMEOUT_MS: '400'
    }))
    expect(target).toMatchObject({
      mode: 'sentinel',
      options: {
        sentinels: [{ host: 'sentinel-0', port: 26379 }, { host: 'sentinel-1', port: 26379 }, { host: '::1', port: 26380 }],
        name: 'fgw',
        password: 'data-secret',
        sentinelPassword: 'sentinel-secret',
        commandTimeout: 400,
        enableOfflineQueue: false
      }
    })
  })

  it('builds a Cluster client from REDIS_CLUSTER_NODES, with the timeout on every node connection', () => {
    const target = redisTarget(loadEnv({ ...base, REDIS_CLUSTER_NODES: 'node-a:7000,node-b:7001', REDIS_PASSWORD: 'data-secret' }))
    expect(target).toMatchObject({
      mode: 'cluster',
      nodes: [{ host: 'node-a', port: 7000 }, { host: 'node-b', port: 7001 }],
      options: { enableOfflineQueue: false, redisOptions: { commandTimeout: 250, enableOfflineQueue: false, password: 'data-secret' } }
    })
  })

  it('builds nothing when no Redis is configured', () => {
    expect(redisTarget(loadEnv(base))).toBeUndefined()
  })

  it('stops boot with a message naming the variable for a bad or conflicting Redis setting', () => {
    expect(() => loadEnv({ ...base, REDIS_SENTINELS: 'sentinel-0', REDIS_SENTINEL_NAME: 'fgw' })).toThrow(/REDIS_SENTINELS must be a comma-separated list of host:port, got "sentinel-0"/)
    expect(() => loadEnv({ ...base, REDIS_CLUSTER_NODES: 'node-a:99999' })).toThrow(/REDIS_CLUSTER_NODES/)
    expect(() => loadEnv({ ...base, REDIS_CLUSTER_NODES: ' , ' })).toThrow(/REDIS_CLUSTER_NODES must list at least one host:port/)
    expect(() => loadEnv({ ...base, REDIS_SENTINELS: 'sentinel-0:26379' })).toThrow(/REDIS_SENTINEL_NAME/)
    expect(() => loadEnv({ ...base, REDIS_SENTINEL_NAME: 'fgw' })).toThrow(/REDIS_SENTINELS/)
    expect(() => loadEnv({ ...base, REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'node-a:7000' })).toThrow(/REDIS_CLUSTER_NODES cannot be combined with REDIS_URL/)
    expect(() => loadEnv({ ...base, TOKEN_FAILURE_BACKOFF_MS: '-1' })).toThrow(/TOKEN_FAILURE_BACKOFF_MS/)
  })
})

/** A redis-server (or sentinel) of our own, with extra arguments; resolves once its log shows `readyText`. */
async function spawnRedis (args: string[], readyText: string, cwd: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`redis-server ${args.join(' ')} did not start:\n${output}`)), 10_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes(readyText)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}:\n${output}`))
    })
  })
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}

async function getMe (gateway: TestGateway): Promise<number> {
  return (await call(gateway, '/me')).status
}

describe('real Sentinel and Cluster', () => {
  const children: ChildProcess[] = []
  const tenants = [{ id: 'topology', apiKey: newApiKey() }]
  // The per-key limit is on (its Lua script runs through Sentinel and Cluster too) but out of reach; a long command
  // timeout because two gateways and the simulator share this test's event loop, which a burst can stall.
  const quiet = { RATE_LIMIT_MAX: '100000', REDIS_COMMAND_TIMEOUT_MS: '1000' }
  let dir: string
  let sim: Simulator

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fgw-topology-'))
    sim = await startSimulator({ accounts: [ACCOUNT] })
  })

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL')
    await sim.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('finds the master through Sentinel and shares the token between replicas through it', async () => {
    const masterPort = await freePort()
    const sentinelPort = await freePort()
    children.push(await spawnRedis(['--port', String(masterPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], 'Ready to accept connections', dir))
    // Sentinel rewrites its config file, so it gets one of its own.
    const conf = join(dir, 'sentinel.conf')
    writeFileSync(conf, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor fgw 127.0.0.1 ${masterPort} 1\n`)
    children.push(await spawnRedis([conf, '--sentinel'], '+monitor master fgw', dir))

    const env = { ...quiet, REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'fgw', REDIS_KEY_PREFIX: 'sentinel:' }
    const before = sim.counters.tokenRequests
    for (let replica = 0; replica < 2; replica++) {
      const gateway = await startGateway({ sim, tenants, env })
      try {
        expect(await getMe(gateway)).toBe(200)
        expect((await call(gateway.url, '/readyz')).body).toEqual({ status: 'ok', redis: 'up', schema: expect.any(Object) })
      } finally {
        await gateway.close()
      }
    }
    expect(sim.counters.tokenRequests - before).toBe(1)
    const master = new Redis(masterPort, '127.0.0.1')
    try {
      expect(await master.keys('sentinel:token:topology:*')).toHaveLength(1)
    } finally {
      master.disconnect()
    }
  })

  it('uses a Redis Cluster: one token request for a burst over two replicas, and 401 renewal through it', async () => {
    // Each node also listens on its cluster bus port, port + 10000: that one must be free too, and no node's port
    // may be another's bus port.
    const ports: number[] = []
    while (ports.length < 3) {
      ports.push(await freePort({ alsoFree: [10_000], exclude: ports.flatMap((port) => [port, port + 10_000, port - 10_000]) }))
    }
    for (const port of ports) {
      const nodeDir = mkdtempSync(join(dir, `node-${port}-`))
      children.push(await spawnRedis(['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'], 'Ready to accept connections', nodeDir))
    }
    const create = spawn('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' })
    const created = await new Promise((resolve) => {
      create.once('exit', resolve)
      create.once('error', (error) => { resolve(error.message) })
    })
    expect(created, 'redis-cli --cluster create (redis-cli: Debian\'s redis-tools, which .ci/run installs)').toBe(0)
    const probe = new Redis(ports[0] ?? 0, '127.0.0.1')
    let clusterInfo = ''
    try {
      const started = Date.now()
      for (;;) {
        clusterInfo = await probe.cluster('INFO') as string
        if (clusterInfo.includes('cluster_state:ok') || Date.now() - started >= 10_000) break
        await sleep(50)
      }
    } finally {
      probe.disconnect()
    }
    expect(clusterInfo).toContain('cluster_state:ok')

    const env = { ...quiet, REDIS_CLUSTER_NODES: ports.map((port) => `127.0.0.1:${port}`).join(','), REDIS_KEY_PREFIX: 'cluster:' }
    const replicas = await Promise.all([0, 1].map(async () => await startGateway({ sim, tenants, env })))
    try {
      sim.faults.tokenDelayMs = 200
      const before = sim.counters.tokenRequests
      const statuses = await Promise.all(Array.from({ length: 60 }, async (_, index) => await getMe(replicas[index % 2]!)))
      expect(statuses.every((status) => status === 200)).toBe(true)
      expect(sim.counters.tokenRequests - before).toBe(1)

      sim.revokeTokens()
      const renewed = await Promise.all(Array.from({ length: 60 }, async (_, index) => await getMe(replicas[index % 2]!)))
      expect(renewed.every((status) => status === 200)).toBe(true)
      expect(sim.counters.tokenRequests - before).toBe(2)
      for (const replica of replicas) expect((await call(replica.url, '/readyz')).body).toEqual({ status: 'ok', redis: 'up', schema: expect.any(Object) })
    } finally {
      sim.faults.tokenDelayMs = 0
      await Promise.all(replicas.map(async (replica) => await replica.close()))
    }
    const cluster = new Cluster([{ host: '127.0.0.1', port: ports[0] ?? 0 }])
    try {
      await new Promise((resolve) => cluster.once('ready', resolve))
      const keys = (await Promise.all(cluster.nodes('master').map(async (node) => await node.keys('cluster:token:topology:*')))).flat()
      expect(keys).toHaveLength(1)
    } finally {
      cluster.disconnect()
    }
  })
})
