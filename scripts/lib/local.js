// What the tests, the bench and the scripts start on this machine: free loopback ports, private redis-servers, child
// processes killed on exit, a wait for a gateway's /healthz, and API keys with their tenants-file line. Plain JS, so
// node runs it from bench/ and scripts/ without a build; TypeScript reads its JSDoc types.
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** A new random API key; `prefix` says who made it (fgw for operators, test, demo). */
export function newApiKey (prefix = 'fgw') {
  return `${prefix}_${randomBytes(24).toString('base64url')}`
}

/**
 * The tenants-file line of an API key (under apiKeys): its SHA-256, hex, prefixed.
 * @param {string} key
 */
export function apiKeyLine (key) {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set()

/**
 * Remembers a child so it is killed (SIGKILL) when this process exits for any reason.
 * @template {import('node:child_process').ChildProcess} C
 * @param {C} child
 * @returns {C}
 */
export function track (child) {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Kills (SIGKILL) every tracked child still running. */
export function killTracked () {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}
process.on('exit', killTracked)

/**
 * Resolves with the value of `promise`, or rejects after `ms` naming `what`.
 * @template T
 * @param {number} ms
 * @param {string} what
 * @param {Promise<T>} promise
 * @returns {Promise<T>}
 */
export async function within (ms, what, promise) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  const timeout = new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Whether the child exited within `ms`.
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} ms
 * @returns {Promise<boolean>}
 */
export async function waitForExit (child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return true
  const exited = new Promise((resolve) => child.once('exit', () => resolve(true)))
  return await Promise.race([exited, sleep(ms).then(() => false)])
}

/**
 * SIGTERM, then SIGKILL when the child has not exited within `graceMs`.
 * @param {import('node:child_process').ChildProcess} child
 * @param {number} [graceMs]
 */
export async function stopChild (child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  if (!await waitForExit(child, graceMs)) {
    child.kill('SIGKILL')
    await waitForExit(child, 5_000)
  }
}

/**
 * Whether `port` can be bound on the loopback interface right now.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
async function canListen (port) {
  return await new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => { server.close(() => resolve(true)) })
  })
}

/** @returns {Promise<number>} */
async function anyFreePort () {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/**
 * A loopback port free right now.
 * @param {{ alsoFree?: number[], exclude?: Iterable<number> }} [options] `alsoFree`: offsets whose ports must be free
 *   too, e.g. [10000] for a Redis Cluster node's bus port; `exclude`: ports already chosen for something else.
 * @returns {Promise<number>}
 */
export async function freePort (options = {}) {
  const offsets = options.alsoFree ?? []
  const excluded = new Set(options.exclude ?? [])
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await anyFreePort()
    const companions = offsets.map((offset) => port + offset)
    if ([port, ...companions].some((candidate) => excluded.has(candidate))) continue
    if (companions.some((companion) => companion < 1 || companion > 65_535)) continue
    if ((await Promise.all(companions.map(canListen))).every(Boolean)) return port
  }
  throw new Error(`no free port found${offsets.length === 0 ? '' : ` with port + ${offsets.join(', ')} free too`}`)
}

function assertRedisInstalled () {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'redis-server was not found on PATH. The tests and the bench start their own Redis. ' +
      'Install it first: "sudo apt-get install redis-server" (Debian/Ubuntu) or "brew install redis" (macOS).'
    )
  }
}

/** A redis-server that could not start because another process took its port between freePort() and its bind. */
class AddressInUseError extends Error {}

/**
 * @typedef {object} RedisServer
 * @property {string} url
 * @property {number} port
 * @property {number} pid
 * @property {string} dir its working directory (AOF files live there)
 * @property {import('node:child_process').ChildProcess} process
 * @property {() => Promise<void>} stop kills it and removes its directory
 * @property {() => Promise<void>} crash kill -9, keeping its directory: start another on the same port and dir to see what survived
 */

/**
 * @typedef {object} RedisServerOptions
 * @property {number} [port] a given port (a free one when not given)
 * @property {string} [dir] its working directory, kept on stop (a fresh temp one, removed on stop, when not given)
 * @property {'always' | 'everysec'} [appendfsync] turn the append-only file on, fsynced as given
 * @property {string[]} [args] extra redis-server arguments
 */

/**
 * Starts a private redis-server on loopback and resolves once it accepts connections.
 * @param {number | RedisServerOptions} [options] a port, or options
 * @returns {Promise<RedisServer>}
 */
export async function startRedisServer (options = {}) {
  assertRedisInstalled()
  const settings = typeof options === 'number' ? { port: options } : options
  if (settings.port !== undefined) return await launchRedisServer({ ...settings, port: settings.port })
  // A free port can be taken by another test file's process before redis-server binds it: try another one then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchRedisServer({ ...settings, port: await freePort() })
    } catch (error) {
      if (!(error instanceof AddressInUseError) || attempt >= 5) throw error
    }
  }
}

/**
 * @param {RedisServerOptions & { port: number }} settings
 * @returns {Promise<RedisServer>}
 */
async function launchRedisServer (settings) {
  const { port } = settings
  const ownDir = settings.dir === undefined
  const dir = settings.dir ?? mkdtempSync(join(tmpdir(), 'fgw-redis-'))
  const args = [...(settings.appendfsync === undefined ? [] : ['--appendonly', 'yes', '--appendfsync', settings.appendfsync]), ...(settings.args ?? [])]
  const child = track(spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '',
    ...(args.includes('--appendonly') ? [] : ['--appendonly', 'no']),
    '--dir', dir, '--protected-mode', 'yes', ...args
  ], { stdio: ['ignore', 'pipe', 'pipe'] }))
  const removeDir = () => { if (ownDir) rmSync(dir, { recursive: true, force: true }) }

  try {
    await new Promise((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}:\n${output}`)), 10_000)
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (/** @type {Buffer} */ chunk) => {
          output += chunk.toString()
          if (output.includes('Ready to accept connections')) {
            clearTimeout(timer)
            resolve(undefined)
          }
        })
      }
      // 'close', not 'exit': it comes after the output is read to the end, the bind error included.
      child.once('close', (code) => {
        clearTimeout(timer)
        const message = `redis-server exited with code ${code}:\n${output}`
        reject(/address already in use/i.test(output) ? new AddressInUseError(message) : new Error(message))
      })
    })
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    removeDir()
    throw error
  }
  child.stdout?.resume()
  child.stderr?.resume()

  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? -1,
    dir,
    process: child,
    stop: async () => {
      await kill()
      removeDir()
    },
    crash: kill
  }
}

/**
 * Polls `{url}/healthz` until it answers 200; throws when `child` exits first or `timeoutMs` passes, quoting `output()`.
 * @param {string} url
 * @param {{ child?: import('node:child_process').ChildProcess, timeoutMs?: number, output?: () => string }} [options]
 */
export async function waitForHealthy (url, options = {}) {
  const timeoutMs = options.timeoutMs ?? 20_000
  const output = options.output ?? (() => '')
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const child = options.child
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`the gateway exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${output()}`)
    }
    try {
      const answer = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
      await answer.body?.cancel()
      if (answer.status === 200) return
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the gateway did not answer /healthz within ${timeoutMs} ms:\n${output()}`)
    await sleep(50)
  }
}
