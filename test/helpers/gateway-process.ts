// Runs the real gateway as a child process (node --import tsx src/server.ts), as a replica would run, for multi-replica tests.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { tenantEntry, type TestTenant } from './gateway.js'
import { freePort, stopChild, track, waitForHealthy } from '../../scripts/lib/local.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export interface TenantsFile {
  path: string
  remove: () => void
}

/** Writes a YAML tenants file whose tenants all point at `baseUrl` (the simulator). */
export function writeTenantsFile (tenants: TestTenant[], baseUrl: string): TenantsFile {
  const dir = mkdtempSync(join(tmpdir(), 'fgw-tenants-'))
  const path = join(dir, 'tenants.yaml')
  writeFileSync(path, stringify({ tenants: tenants.map((tenant) => tenantEntry(tenant, baseUrl)) }))
  return { path, remove: () => { rmSync(dir, { recursive: true, force: true }) } }
}

export interface GatewayProcess {
  url: string
  port: number
  pid: number
  /** Every stdout/stderr line so far (pino JSON lines, mostly). */
  lines: string[]
  /** Parsed JSON log lines. */
  logs: () => Array<Record<string, unknown>>
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop: () => Promise<void>
}

export interface GatewayProcessOptions {
  tenantsFile: string
  /** REDIS_URL, REDIS_KEY_PREFIX, TOKEN_ENCRYPTION_KEY, ...; unset values are left out. */
  env?: Record<string, string | undefined>
  /** How long to wait for /healthz. */
  startTimeoutMs?: number
}

/** Starts one gateway process on a free loopback port and resolves once /healthz answers. */
export async function startGatewayProcess (options: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort()
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    TENANTS_FILE: options.tenantsFile,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // Off unless a test turns it on: its introspection would add calls to the counts multi-replica tests assert.
    SCHEMA_CHECK_INTERVAL_MS: '0'
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) env[name] = value
  }
  const child = track(spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }))
  const lines: string[] = []
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ''
    stream?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n')
      rest = parts.pop() ?? ''
      lines.push(...parts.filter((line) => line !== ''))
    })
  }

  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => { await stopChild(child) }
  try {
    await waitForHealthy(url, { child, timeoutMs: options.startTimeoutMs ?? 20_000, output: () => lines.join('\n') })
  } catch (error) {
    await stop()
    throw error
  }

  return {
    url,
    port,
    pid: child.pid ?? -1,
    lines,
    logs: () => lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    }),
    stop
  }
}
