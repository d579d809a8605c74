// Child processes of the bench: a private redis-server, forked helpers, the gateway; all killed when the bench exits.
import { fork, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const children = new Set()

/** Every child the bench started; killed (by pid, each one) when the bench exits for any reason. */
function track (child) {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export function killAll () {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}
process.on('exit', killAll)

export async function freePort () {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Resolves with the value of `promise`, or rejects after `ms` naming `what`. */
export async function within (ms, what, promise) {
  let timer
  const timeout = new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Stops a child with SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop (child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  try {
    await within(graceMs, `pid ${child.pid} stopping`, exited)
  } catch {
    child.kill('SIGKILL')
    await exited
  }
}

/** `extraArgs` are appended to the redis-server command line (e.g. ['--appendonly', 'yes', '--appendfsync', 'always']). */
export async function startRedis (dir, extraArgs = []) {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('redis-server was not found on PATH; the bench starts its own. Install it: "sudo apt-get install redis-server" or "brew install redis".')
  }
  const port = await freePort()
  const child = track(spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes', ...extraArgs
  ], { stdio: ['ignore', 'pipe', 'pipe'] }))
  await within(10_000, 'redis-server start', new Promise((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}:\n${output}`)))
  }))
  child.stdout.resume()
  child.stderr.resume()
  return { url: `redis://127.0.0.1:${port}`, port, child }
}

/** Forks a bench helper and waits for its first IPC message (`listening` or `ready`). */
export async function forkHelper (file, env = {}) {
  const child = track(fork(file, [], {
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    // stdout is /dev/null: the loggers write there, as the gateway's do.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  }))
  const first = await within(15_000, `${file} start`, new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${file} exited with code ${code} before it was ready`)))
  }))
  return { child, pid: child.pid, ...first }
}

/** Starts `node [nodeArgs] dist/server.js` with `env` only, stdout to /dev/null, and waits until /healthz answers. */
export async function startGateway ({ cwd, env, nodeArgs = [] }) {
  const port = await freePort()
  const child = track(spawn(process.execPath, [...nodeArgs, 'dist/server.js'], {
    cwd,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe']
  }))
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const origin = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode}:\n${stderr}`)
    try {
      const response = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1_000) })
      if (response.ok) return { child, pid: child.pid, origin, stderr: () => stderr }
    } catch {}
    await sleep(100)
  }
  throw new Error(`the gateway did not answer /healthz within 20 s:\n${stderr}`)
}

/** Resident set size of a process in MB, from /proc (Linux); undefined elsewhere or once it has gone. */
export function rssMb (pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? undefined : Number(match[1]) / 1024
  } catch {
    return undefined
  }
}

const CLOCK_TICKS = (() => {
  const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const ticks = Number(probe.stdout)
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100
})()

/**
 * CPU seconds a process has used so far, all threads, user + system, from /proc (Linux); undefined elsewhere.
 * CPU per request holds up on a shared machine far better than requests per second: others steal wall time, not this.
 */
export function cpuSeconds (pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return undefined
  }
}
