// Child processes of the bench: a private redis-server, forked helpers, the gateway; all killed when the bench exits.
import { fork, spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { apiKeyLine, freePort, killTracked, newApiKey, startRedisServer, stopChild, track, waitForHealthy, within } from '../scripts/lib/local.js'

/** Kills every child the bench started (scripts/lib/local.js also does on exit). */
export { killTracked as killAll }

/** Stops a child with SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export const stop = stopChild

/** A private redis-server working in `dir`, for the whole bench; `extraArgs` go on its command line (e.g. AOF settings). */
export async function startRedis (dir, extraArgs = []) {
  const redis = await startRedisServer({ dir, args: extraArgs })
  return { url: redis.url, port: redis.port, child: redis.process }
}

export { freePort, within }

/**
 * The bench's one tenant, on the fake Fluent at `fluentOrigin`, written to `dir`/tenants.yaml with a new random API key.
 * @returns {{ tenantsFile: string, apiKey: string }}
 */
export function writeBenchTenant (dir, fluentOrigin) {
  const apiKey = newApiKey('bench')
  const tenantsFile = join(dir, 'tenants.yaml')
  writeFileSync(tenantsFile, [
    'tenants:',
    '  - id: bench',
    '    apiKeys:',
    `      - ${apiKeyLine(apiKey)}`,
    '    fluent:',
    `      baseUrl: ${fluentOrigin}`,
    '      clientId: BENCH',
    '      clientSecret: bench-secret',
    '      username: bench_integration',
    '      password: bench-password',
    '      retailerId: "1"',
    ''
  ].join('\n'))
  return { tenantsFile, apiKey }
}

/**
 * The gateway's environment in the bench, as in production: defaults for everything (metrics and rate limiting on),
 * `LOG_LEVEL=info`, except every `RATE_LIMIT_*MAX` raised to its maximum so the bench never meets it. The variable
 * list is read from the build in `root`, so it keeps up with src/config/env.ts.
 */
export async function benchGatewayEnv (root, { tenantsFile, redisUrl }) {
  const { EnvSchema } = await import(join(root, 'dist/config/env.js'))
  const schema = EnvSchema.properties
  const env = { LOG_LEVEL: 'info', TENANTS_FILE: tenantsFile, REDIS_URL: redisUrl }
  const rateLimitKeys = Object.keys(schema).filter((name) => /^RATE_LIMIT.*MAX$/.test(name))
  for (const name of rateLimitKeys) env[name] = String(schema[name].maximum ?? 1_000_000_000)
  return { env, schema, rateLimitKeys }
}

/**
 * Forks a bench helper and waits for its first IPC message (`listening` or `ready`). `wrapper` (a command and its
 * arguments, e.g. valgrind's) runs node under it; the IPC channel passes through.
 */
export async function forkHelper (file, env = {}, { wrapper = [], readyWithinMs = 15_000 } = {}) {
  const child = track(fork(file, [], {
    ...(wrapper.length === 0 ? {} : { execPath: wrapper[0], execArgv: [...wrapper.slice(1), process.execPath] }),
    env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env },
    // stdout is /dev/null: the loggers write there, as the gateway's do.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  }))
  const first = await within(readyWithinMs, `${file} start`, new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${file} exited with code ${code} before it was ready`)))
  }))
  return { child, pid: child.pid, ...first }
}

/** `NAME=value` words as an environment object; `what` names their source in the error for any other word. */
export function envAssignments (words, what) {
  return Object.fromEntries(words.map((word) => {
    const match = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(word)
    if (match === null) throw new Error(`${what} takes NAME=value words, not "${word}"`)
    return [match[1], match[2]]
  }))
}

/**
 * How production starts the gateway, read from package.json's `start` script (`[NAME=value ...] node [flags]
 * dist/server.js`): the environment it sets (the allocator's settings) and the V8 flags.
 */
const PRODUCTION = (() => {
  const start = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts.start
  const words = start.split(/\s+/)
  const node = words.indexOf('node')
  if (node < 0 || words.at(-1) !== 'dist/server.js') {
    throw new Error(`package.json's start script should be "[NAME=value ...] node [flags] dist/server.js", not "${start}"`)
  }
  return { env: envAssignments(words.slice(0, node), 'the start script, before node,'), nodeArgs: words.slice(node + 1, -1) }
})()
export const PRODUCTION_NODE_ARGS = PRODUCTION.nodeArgs
export const PRODUCTION_ENV = PRODUCTION.env

/**
 * Starts `node [nodeArgs] dist/server.js` (nodeArgs: production's flags unless given) with production's environment
 * and `env` only (`env` wins), and waits until /healthz answers. Its stdout (the access log)
 * is appended to `logFile`, a real file as in production, or goes to /dev/null without one. `wrapper` (a command and
 * its arguments, e.g. valgrind's) runs node under it.
 */
export async function startGateway ({ cwd, env, nodeArgs = PRODUCTION_NODE_ARGS, logFile, wrapper = [], healthyWithinMs }) {
  const port = await freePort()
  const out = logFile === undefined ? 'ignore' : openSync(logFile, 'a')
  const command = [...wrapper, process.execPath, ...nodeArgs, 'dist/server.js']
  const child = track(spawn(command[0], command.slice(1), {
    cwd,
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...PRODUCTION_ENV, ...env },
    stdio: ['ignore', out, 'pipe']
  }))
  if (typeof out === 'number') closeSync(out)
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const origin = `http://127.0.0.1:${port}`
  await waitForHealthy(origin, { child, output: () => stderr, timeoutMs: healthyWithinMs })
  return { child, pid: child.pid, origin, stderr: () => stderr }
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
