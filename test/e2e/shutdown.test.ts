// Graceful shutdown of a real gateway process: SIGTERM mid-burst loses no request and exits 0; readiness drains; the grace period bounds it.
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call } from '../helpers/call.js'
import { writeTenantsFile, type TenantsFile } from '../helpers/gateway-process.js'
import { ACCOUNT, newApiKey } from '../helpers/gateway.js'
import { freePort } from '../helpers/redis-server.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BURST = 200

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  /** performance.now() when the process was seen to exit. */
  at: number
}

interface GatewayChild {
  url: string
  child: ChildProcess
  lines: string[]
  exited: Promise<Exit>
}

/** Starts `node --import tsx src/server.ts` as a container would, and waits for /healthz. */
async function spawnGateway (tenantsFile: string, env: Record<string, string>): Promise<GatewayChild> {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TENANTS_FILE: tenantsFile, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })))
  const lines: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => { lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== '')) })
  }
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode} before it was healthy:\n${lines.join('\n')}`)
    const healthy = await fetch(`${url}/healthz`).then((answer) => answer.status === 200, () => false)
    if (healthy) break
    if (Date.now() > deadline) throw new Error(`gateway did not answer /healthz in time:\n${lines.join('\n')}`)
    await sleep(50)
  }
  return { url, child, lines, exited }
}

async function until (condition: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

describe('graceful shutdown', () => {
  let sim: Simulator
  let tenants: TenantsFile
  const apiKey = newApiKey()
  const children: ChildProcess[] = []
  const start = async (env: Record<string, string>): Promise<GatewayChild> => {
    const gateway = await spawnGateway(tenants.path, { REDIS_URL: inject('redisUrl'), ...env })
    children.push(gateway.child)
    return gateway
  }

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT] })
    tenants = writeTenantsFile([{ id: 'acme', apiKey }], sim.url)
  })
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    sim.reset()
  })
  afterAll(async () => {
    await sim.close()
    tenants.remove()
  })

  it(`answers all ${BURST} requests in flight at SIGTERM and exits 0 within the grace period`, async () => {
    const grace = 10_000
    const gateway = await start({ SHUTDOWN_GRACE_MS: String(grace) })
    expect((await call(gateway.url, '/me', { apiKey })).status).toBe(200)
    sim.reset()
    sim.faults.graphqlDelayMs = 300
    // Keep-alive sockets, one per request, as a pooling client holds them: shutdown must not wait for them to idle out.
    const agent = new Agent({ connections: BURST + 10, keepAliveTimeout: 60_000 })
    try {
      const burst = Array.from({ length: BURST }, async () => {
        try {
          const answer = await request(`${gateway.url}/me`, { dispatcher: agent, headers: { authorization: `Bearer ${apiKey}` } })
          const body = await answer.body.json() as { username?: string }
          return { status: answer.statusCode, username: body.username }
        } catch (error) {
          return { status: 0, error: (error as Error).message }
        }
      })

      // Every request of the burst has reached Fluent through the gateway, so each was accepted before the signal.
      await until(() => sim.requests.length >= BURST, `Fluent to see ${BURST} requests`)
      const inFlight = sim.requests.filter((record) => record.status === 0).length
      const signalled = performance.now()
      gateway.child.kill('SIGTERM')
      const answers = await Promise.all(burst)
      const exit = await gateway.exited
      const exitMs = exit.at - signalled
      console.info(`shutdown: ${inFlight} of ${BURST} requests in flight at SIGTERM, exit ${exit.code} after ${Math.round(exitMs)} ms`)

      expect(inFlight).toBeGreaterThan(0)
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([])
      expect(answers.every((answer) => answer.username === ACCOUNT.username)).toBe(true)
      expect(sim.requests).toHaveLength(BURST)
      expect(exit).toMatchObject({ code: 0, signal: null })
      expect(exitMs).toBeLessThan(grace)
      expect(gateway.lines.join('\n')).toContain('closed: every request answered')
      // Log lines are buffered (src/logging.ts): whatever was still collected is written at exit, one line per request.
      const accessLines = gateway.lines.filter((line) => line.includes('"msg":"request completed"') && line.includes('"route":"/me"'))
      expect(accessLines).toHaveLength(BURST + 1)
      await expect(fetch(`${gateway.url}/healthz`)).rejects.toThrow()
    } finally {
      await agent.close()
    }
  })

  it('answers /readyz 503 during the drain delay while still serving requests, each on a closing connection', async () => {
    // A drain delay wide enough that the two calls below land inside it on a busy machine; the grace period holds it.
    const gateway = await start({ SHUTDOWN_DRAIN_DELAY_MS: '5000', SHUTDOWN_GRACE_MS: '15000' })
    const ready = await call(gateway.url, '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.headers.get('connection')).toBe('keep-alive')

    gateway.child.kill('SIGTERM')
    await until(() => gateway.lines.some((line) => line.includes('draining')), 'the draining log line', 5_000)
    const readyz = await call(gateway.url, '/readyz')
    const me = await call(gateway.url, '/me', { apiKey })
    const exit = await gateway.exited

    expect(readyz.status).toBe(503)
    expect(readyz.headers.get('retry-after')).toBe('5')
    expect(readyz.body).toMatchObject({ status: 'draining', redis: 'up' })
    expect(me.status).toBe(200)
    expect(me.headers.get('connection')).toBe('close')
    expect(exit).toMatchObject({ code: 0, signal: null })
  })

  it('exits 1 when requests are still running at the end of the grace period, saying so', async () => {
    const gateway = await start({ SHUTDOWN_GRACE_MS: '1500', FLUENT_TIMEOUT_MS: '20000' })
    expect((await call(gateway.url, '/me', { apiKey })).status).toBe(200)
    sim.faults.hang = true
    const stuck = call(gateway.url, '/me', { apiKey }).then((answer) => answer.status, () => 0)
    await until(() => sim.requests.length >= 2, 'the stuck request to reach Fluent')

    const signalled = performance.now()
    gateway.child.kill('SIGTERM')
    const exit = await gateway.exited

    expect(exit).toMatchObject({ code: 1, signal: null })
    expect(exit.at - signalled).toBeGreaterThanOrEqual(1400)
    expect(exit.at - signalled).toBeLessThan(1500 + 3_000)
    expect(await stuck).toBe(0)
    expect(gateway.lines.join('\n')).toContain('grace period over with requests still in flight')
  })
})
