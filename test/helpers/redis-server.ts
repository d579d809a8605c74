// Starts a private redis-server on a free loopback port, for the whole test run or for one fault test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  url: string
  port: number
  pid: number
  process: ChildProcess
  /** Where it keeps its files (the AOF, when on). */
  dir: string
  stop: () => Promise<void>
  /** kill -9, keeping its directory: start another on the same port and dir to see what survived. */
  crash: () => Promise<void>
}

export interface RedisServerOptions {
  /** Turn the append-only file on, fsynced as given. */
  appendfsync?: 'always' | 'everysec'
  /** Use this directory (kept on stop: the caller owns it) instead of a fresh temporary one. */
  dir?: string
}

/** Whether `port` can be bound on the loopback interface right now. */
async function canListen (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => { server.close(() => resolve(true)) })
  })
}

async function anyFreePort (): Promise<number> {
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

export interface FreePortOptions {
  /**
   * Offsets whose ports must be free too, e.g. [10000] for a Redis Cluster node, which also listens on its bus port
   * (port + 10000).
   */
  alsoFree?: number[]
  /** Ports not to answer (already chosen for something else). */
  exclude?: Iterable<number>
}

/** A loopback port free right now (and, with options, whose companion ports are free too). */
export async function freePort (options: FreePortOptions = {}): Promise<number> {
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

function assertRedisInstalled (): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'redis-server was not found on PATH. The tests start their own Redis. ' +
      'Install it first: "sudo apt-get install redis-server" (Debian/Ubuntu) or "brew install redis" (macOS).'
    )
  }
}

/** A redis-server that could not start because another process took its port between freePort() and its bind. */
class AddressInUseError extends Error {}

/** Starts redis-server on `port` (a free one when not given) and resolves once it accepts connections. */
export async function startRedisServer (port?: number, options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisInstalled()
  if (port !== undefined) return await launchRedisServer(port, options)
  // A free port can be taken by another test file's process before redis-server binds it: try another one then.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchRedisServer(await freePort(), options)
    } catch (error) {
      if (!(error instanceof AddressInUseError) || attempt >= 5) throw error
    }
  }
}

async function launchRedisServer (port: number, options: RedisServerOptions): Promise<RedisServer> {
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'fgw-redis-'))
  const removeDir = (): void => { if (ownDir) rmSync(dir, { recursive: true, force: true }) }
  const aof = options.appendfsync === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', options.appendfsync]
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', ...aof,
    '--dir', dir, '--protected-mode', 'yes'
  ], { stdio: ['ignore', 'pipe', 'pipe'] })

  try {
    await new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start on port ${port}:\n${output}`)), 10_000)
      for (const stream of [child.stdout, child.stderr]) {
        stream?.on('data', (chunk: Buffer) => {
          output += chunk.toString()
          if (output.includes('Ready to accept connections')) {
            clearTimeout(timer)
            resolve()
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

  const kill = async (): Promise<void> => {
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
    process: child,
    dir,
    stop: async () => {
      await kill()
      removeDir()
    },
    crash: kill
  }
}
