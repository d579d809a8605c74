// CI without a Docker engine: runs the Dockerfile's stages in temp directories (context, COPY, RUN) and smoke-tests the runtime stage's CMD and HEALTHCHECK.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { dirname, join, posix, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_ACCOUNT } from '../src/simulator/index.js'
import { apiKeyLine, freePort } from './lib/local.js'
import { dockerignoreMatcher, execForm, healthcheckOf, lastOf, parseDockerfile, type Instruction, type Stage } from './dockerfile.js'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const started = Date.now()

function log (message: string): void {
  console.log(`dockerfile-steps [${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`)
}

function fail (message: string): never {
  throw new Error(message)
}

/** Where a stage's absolute path lands inside its temp root. */
function inRoot (root: string, path: string): string {
  return join(root, posix.normalize(path).replace(/^\/+/, ''))
}

/** Source names of a COPY: plain paths, or a `*` glob in the last segment (package*.json). */
function expandSources (base: string, source: string): string[] {
  const name = posix.basename(source)
  if (!/[*?[]/.test(name)) return [source]
  const directory = posix.dirname(source)
  const pattern = new RegExp(`^${name.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`)
  return readdirSync(join(base, directory)).filter((entry) => pattern.test(entry)).map((entry) => posix.join(directory, entry))
}

interface StageState {
  root: string
  workdir: string
  env: Record<string, string>
}

function copy (instruction: Instruction, state: StageState, stageRoots: Map<string, string>, ignored: (path: string) => boolean): void {
  for (const flag of Object.keys(instruction.flags)) {
    // --chown/--chmod/--link change ownership or layering only, which a directory copy cannot show.
    if (!['from', 'chown', 'chmod', 'link'].includes(flag)) fail(`line ${instruction.line}: COPY --${flag} is not supported by this script; teach it or avoid the flag`)
  }
  const from = instruction.flags.from ?? null
  const fromRoot = from === null ? null : stageRoots.get(from) ?? fail(`line ${instruction.line}: COPY --from=${from} names no earlier stage`)
  const parts = instruction.args
  const destination = parts.at(-1) ?? fail(`line ${instruction.line}: COPY without a destination`)
  const base = fromRoot ?? repo
  const sources = parts.slice(0, -1).flatMap((source) => expandSources(base, fromRoot === null ? source : posix.normalize(source).replace(/^\/+/, '')))
  if (sources.length === 0) fail(`line ${instruction.line}: COPY matched no file`)
  const target = inRoot(state.root, posix.isAbsolute(destination) ? destination : posix.join(state.workdir, destination))
  const intoDirectory = destination.endsWith('/') || sources.length > 1
  for (const source of sources) {
    const path = join(base, source)
    if (fromRoot === null && ignored(source)) fail(`line ${instruction.line}: COPY ${source} is excluded by .dockerignore, so a docker build would not find it`)
    if (!existsSync(path)) fail(`line ${instruction.line}: COPY source ${source} does not exist${fromRoot === null ? ' in the build context' : ` in stage ${from ?? ''}`}`)
    const isDirectory = statSync(path).isDirectory()
    const to = isDirectory || !intoDirectory ? target : join(target, posix.basename(source))
    mkdirSync(isDirectory ? to : dirname(to), { recursive: true })
    // From the context, .dockerignore applies to every file below a copied directory too.
    cpSync(path, to, {
      recursive: true,
      filter: (file) => fromRoot !== null || !ignored(relative(repo, file).split('\\').join('/'))
    })
  }
}

function run (instruction: Instruction, state: StageState): void {
  const exec = execForm(instruction.text)
  const cwd = inRoot(state.root, state.workdir)
  log(`RUN ${instruction.text}  (in ${relative(tmpdir(), cwd)})`)
  const result = exec === null
    ? spawnSync('/bin/sh', ['-c', instruction.text], { cwd, env: stepEnv(state.env), stdio: 'inherit' })
    : spawnSync(exec[0] ?? '', exec.slice(1), { cwd, env: stepEnv(state.env), stdio: 'inherit' })
  if (result.status !== 0) fail(`line ${instruction.line}: RUN ${instruction.text} exited with ${result.status ?? result.signal ?? 'an error'}`)
}

/** The environment of a RUN: the image's ENV over a minimal host one; npm reuses the host cache rather than the network. */
function stepEnv (env: Record<string, string>): NodeJS.ProcessEnv {
  const host: NodeJS.ProcessEnv = {}
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'npm_config_cache']) {
    if (process.env[name] !== undefined) host[name] = process.env[name]
  }
  return { ...host, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false', ...env }
}

function runStage (stage: Stage, index: number, final: boolean, tmp: string, stageRoots: Map<string, string>, ignored: (path: string) => boolean): StageState {
  const root = join(tmp, `stage-${index}-${stage.name ?? 'unnamed'}`)
  mkdirSync(root, { recursive: true })
  const state: StageState = { root, workdir: '/', env: {} }
  log(`FROM ${stage.image}${stage.name === null ? '' : ` AS ${stage.name}`}`)
  for (const instruction of stage.instructions) {
    switch (instruction.keyword) {
      case 'WORKDIR':
        state.workdir = posix.resolve(state.workdir, instruction.args[0] ?? '/')
        mkdirSync(inRoot(root, state.workdir), { recursive: true })
        break
      case 'ENV':
        for (const pair of instruction.args) {
          const at = pair.indexOf('=')
          if (at === -1) fail(`line ${instruction.line}: write ENV as NAME=value`)
          state.env[pair.slice(0, at)] = pair.slice(at + 1)
        }
        break
      case 'COPY':
        copy(instruction, state, stageRoots, ignored)
        break
      case 'RUN':
        // The final stage's RUN lines set up the OS (the lint test holds them to apt-get); the host has its own.
        if (final) log(`skipped in the final stage (OS setup, not reproducible here): RUN ${instruction.text}`)
        else run(instruction, state)
        break
      case 'USER': case 'EXPOSE': case 'HEALTHCHECK': case 'CMD': case 'ENTRYPOINT': case 'LABEL': case 'STOPSIGNAL': case 'ARG':
        break
      default:
        fail(`line ${instruction.line}: ${instruction.keyword} is not supported by this script; teach it or avoid the instruction`)
    }
  }
  if (stage.name !== null) stageRoots.set(stage.name, root)
  stageRoots.set(String(index), root)
  return state
}

async function waitFor (what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  fail(`${what} did not happen within ${timeoutMs} ms`)
}

function spawnLogged (name: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(argv[0] ?? '', argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const prefix = (chunk: Buffer): string => chunk.toString('utf8').split('\n').filter((line) => line !== '').map((line) => `  ${name}| ${line}\n`).join('')
  child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)))
  child.stderr?.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)))
  return child
}

async function stop (child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code] = await exited
  clearTimeout(timer)
  return code
}

/** Runs the runtime stage's CMD the way the container would (its ENV, WORKDIR, only its files) and asks it what users and the HEALTHCHECK ask. */
async function smokeTest (stage: Stage, state: StageState, tmp: string): Promise<void> {
  const cwd = inRoot(state.root, state.workdir)
  const cmd = execForm(lastOf(stage, 'CMD')?.text ?? '') ?? fail('the final stage needs a CMD in exec form')
  const script = cmd[0] === 'node' && cmd.length >= 2 ? cmd.at(-1) ?? '' : fail('CMD should be ["node", ...V8 flags, "<file>"]')
  if (!existsSync(join(cwd, script))) fail(`CMD runs ${script}, which the final stage does not contain`)
  const health = healthcheckOf(stage)?.command ?? fail('the final stage needs a HEALTHCHECK in exec form')

  const packageJson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> }
  const leaked = Object.keys(packageJson.devDependencies ?? {}).filter((name) => existsSync(join(cwd, 'node_modules', name)))
  if (leaked.length > 0) fail(`the final stage ships dev dependencies: ${leaked.join(', ')}`)

  // Only PATH from the host: node must resolve every import from the stage's own node_modules.
  const baseEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...state.env }
  const simulatorPort = await freePort()
  const simulator = spawnLogged('simulator', ['node', 'dist/simulator/main.js'], cwd, { ...baseEnv, PORT: String(simulatorPort), HOST: '127.0.0.1' })

  const apiKey = `smoke_${randomBytes(12).toString('hex')}`
  const tenantsFile = join(tmp, 'tenants.json')
  // The secret comes from the environment as in production, which exercises ${VAR} expansion in the image too.
  writeFileSync(tenantsFile, JSON.stringify({
    tenants: [{
      id: 'smoke',
      apiKeys: [apiKeyLine(apiKey)],
      // eslint-disable-next-line no-template-curly-in-string -- a tenants-file variable, not a JS template
      fluent: { ...DEFAULT_ACCOUNT, baseUrl: `http://127.0.0.1:${simulatorPort}`, clientSecret: '${SMOKE_CLIENT_SECRET}' }
    }]
  }))
  const port = await freePort()
  const gatewayEnv = {
    ...baseEnv, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', TENANTS_FILE: tenantsFile, SMOKE_CLIENT_SECRET: DEFAULT_ACCOUNT.clientSecret
  }
  // The ENTRYPOINT (tini) runs too when this machine has it (CI installs it), so SIGTERM takes the container's path.
  const entrypoint = execForm(lastOf(stage, 'ENTRYPOINT')?.text ?? '[]') ?? fail('write ENTRYPOINT in exec form')
  const argv = entrypoint.length > 0 && existsSync(entrypoint[0] ?? '') ? [...entrypoint, ...cmd] : cmd
  if (argv === cmd && entrypoint.length > 0) log(`note: ${entrypoint[0] ?? ''} is not on this machine; running CMD without the ENTRYPOINT`)
  log(`starting ${argv.join(' ')} on port ${port}`)
  const gateway = spawnLogged('gateway', argv, cwd, gatewayEnv)
  try {
    await waitFor('the HEALTHCHECK command passing', 20_000, async () => {
      if (gateway.exitCode !== null) fail(`the gateway exited with ${gateway.exitCode} before it became healthy`)
      return spawnSync(health[0] ?? '', health.slice(1), { cwd, env: gatewayEnv, timeout: 3000 }).status === 0
    })
    log('HEALTHCHECK passes')
    const base = `http://127.0.0.1:${port}`
    const expectations: Array<[string, RequestInit, number]> = [
      ['/readyz', {}, 200],
      ['/me', { headers: { authorization: `Bearer ${apiKey}` } }, 200],
      ['/docs/', {}, 200],
      ['/openapi.json', {}, 200]
    ]
    for (const [path, init, status] of expectations) {
      // A loaded CI machine can make a fresh process shed load (503 + Retry-After): retry as a client would, briefly.
      const deadline = Date.now() + 15_000
      for (;;) {
        const response = await fetch(`${base}${path}`, init)
        const body = await response.text()
        if (response.status === status) {
          log(`GET ${path} -> ${response.status}`)
          break
        }
        if (response.status !== 503 || Date.now() > deadline) fail(`GET ${path} answered ${response.status}, expected ${status}: ${body.slice(0, 500)}`)
        log(`GET ${path} -> 503 (${body.slice(0, 120)}), retrying`)
        await new Promise((resolve) => setTimeout(resolve, Math.min(Number(response.headers.get('retry-after') ?? 1), 2) * 1000))
      }
    }
    const code = await stop(gateway, 30_000)
    if (code !== 0) fail(`the gateway exited with ${code ?? 'a signal'} on SIGTERM, expected 0`)
    log('SIGTERM: the gateway drained and exited 0')
  } finally {
    await stop(gateway, 5_000)
    await stop(simulator, 5_000)
  }
}

async function main (): Promise<void> {
  const dockerfile = parseDockerfile(readFileSync(join(repo, 'Dockerfile'), 'utf8'))
  const ignored = dockerignoreMatcher(existsSync(join(repo, '.dockerignore')) ? readFileSync(join(repo, '.dockerignore'), 'utf8') : '')
  const final = dockerfile.stages.at(-1) ?? fail('the Dockerfile has no FROM')
  const hostNode = process.version.slice(1)
  if (!final.image.includes(hostNode)) log(`note: the image is ${final.image}, this machine runs node ${hostNode}`)

  const tmp = mkdtempSync(join(tmpdir(), 'fgw-dockerfile-'))
  try {
    const stageRoots = new Map<string, string>()
    let finalState: StageState | undefined
    dockerfile.stages.forEach((stage, index) => {
      const state = runStage(stage, index, stage === final, tmp, stageRoots, ignored)
      if (stage === final) finalState = state
    })
    await smokeTest(final, finalState ?? fail('no final stage'), tmp)
    log('ok: every build step ran and the runtime stage serves')
  } finally {
    if (process.env.KEEP_DOCKERFILE_STEPS === undefined) rmSync(tmp, { recursive: true, force: true })
    else log(`kept ${tmp}`)
  }
}

main().catch((error: unknown) => {
  console.error(`dockerfile-steps: FAILED: ${(error as Error).message}`)
  process.exit(1)
})
