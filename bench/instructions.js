// npm run bench:instructions: CPU instructions per request (valgrind's callgrind) of the gateway and the two floors.
// Unlike req/s and CPU time, an instruction count does not move with what else the machine runs, so a change of a few
// per cent shows from one run. It counts only user-space instructions: the kernel's share (socket syscalls) is not in it.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { benchGatewayEnv, forkHelper, killAll, startGateway, startRedis, stop, writeBenchTenant } from './processes.js'
import { BENCH, median, numberFromEnv, OUT, ROOT, table } from './shared.js'

const REQUESTS = numberFromEnv('BENCH_INSTRUCTIONS_REQUESTS', 3_000)
/** JIT warm-up: far fewer requests leave TurboFan compiling through the measured ones. */
const WARMUP = numberFromEnv('BENCH_INSTRUCTIONS_WARMUP', 20_000)
const ROUNDS = numberFromEnv('BENCH_INSTRUCTIONS_ROUNDS', 2)
const CONNECTIONS = 8
const CHALLENGER_DIR = process.env.BENCH_CHALLENGER
const WHOLE_BENCH_MS = 30 * 60_000
/** valgrind names its control pipe after these; callgrind_control must see the same. */
const PIPE_ENV = { USER: 'bench', HOST: '127.0.0.1' }
/**
 * Under valgrind the event loop runs tens of times slower than it does, and the default 1 s delay would shed: load
 * shedding stays on (its per-request check is measured) with its threshold at the maximum.
 */
const SLOW_LOOP_ENV = { MAX_EVENT_LOOP_DELAY_MS: '60000' }

/** Instructions in every dump file of one run: main thread (thread 1) and all threads. */
function countDumps (dir) {
  let main = 0
  let all = 0
  for (const file of readdirSync(dir).filter((name) => /^cg\.out\.\d+-\d+$/.test(name))) {
    const match = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
    if (match === null) continue
    all += Number(match[1])
    if (file.endsWith('-01')) main += Number(match[1])
  }
  return { main, all }
}

async function measure (target, dir) {
  const wrapper = ['valgrind', '--quiet', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes',
    '--smc-check=all-non-file', `--callgrind-out-file=${join(dir, 'cg.out')}`]
  const server = await target.start(wrapper)
  const control = (...args) => execFileSync('callgrind_control', [...args, String(server.pid)], { env: { ...process.env, ...PIPE_ENV }, stdio: 'ignore' })
  const pool = new Pool(server.origin, { connections: CONNECTIONS })
  const send = async (count) => {
    let sent = 0
    const failed = {}
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (sent < count) {
        sent++
        const answer = await pool.request({ path: target.path, method: target.method, headers: target.headers, body: target.body })
        await answer.body.dump()
        if (answer.statusCode !== 200) failed[answer.statusCode] = (failed[answer.statusCode] ?? 0) + 1
      }
    }))
    if (Object.keys(failed).length > 0) throw new Error(`${target.label}: of ${count} requests, these statuses were not 200: ${JSON.stringify(failed)}`)
  }
  try {
    await send(WARMUP)
    control('--instr=on')
    control('--zero')
    await send(REQUESTS)
    control('--dump')
    control('--instr=off')
    const { main, all } = countDumps(dir)
    return { main: main / REQUESTS, all: all / REQUESTS }
  } finally {
    await pool.close()
    await stop(server.child)
  }
}

async function main () {
  const check = spawnSync('valgrind', ['--version'], { encoding: 'utf8' })
  if (check.status !== 0) throw new Error('bench:instructions needs valgrind on PATH (Debian package valgrind)')
  const guard = setTimeout(() => {
    console.error(`bench:instructions: still running after ${WHOLE_BENCH_MS / 60_000} min; giving up`)
    process.exit(1)
  }, WHOLE_BENCH_MS)
  guard.unref()
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { killAll(); process.exit(130) })
  const started = Date.now()
  const log = (message) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`)

  const work = mkdtempSync(join(tmpdir(), 'fgw-instructions-'))
  mkdirSync(OUT, { recursive: true })
  try {
    const redis = await startRedis(work)
    const fake = await forkHelper(join(BENCH, 'fake-fluent.js'))
    const fakeOrigin = `http://127.0.0.1:${fake.port}`
    const { tenantsFile, apiKey } = writeBenchTenant(work, fakeOrigin)
    const { env } = await benchGatewayEnv(ROOT, { tenantsFile, redisUrl: redis.url })
    const { ME } = await import(join(ROOT, 'dist/fluent/me.js'))
    const graphqlBody = JSON.stringify({
      query: 'query Orders { orders(first: 3) { edges { cursor node { id ref status type totalPrice } } pageInfo { hasNextPage } } }',
      variables: {},
      operationName: 'Orders'
    })
    const caller = { authorization: `Bearer ${apiKey}` }
    const json = { 'content-type': 'application/json' }
    const gateway = (cwd, name) => async (wrapper) => await startGateway({ cwd, env: { ...env, ...SLOW_LOOP_ENV, ...PIPE_ENV }, wrapper, healthyWithinMs: 180_000, logFile: join(work, `${name}-access.log`) })
    const helper = (file) => async (wrapper) => {
      const child = await forkHelper(join(BENCH, file), { UPSTREAM: fakeOrigin, ...PIPE_ENV }, { wrapper, readyWithinMs: 180_000 })
      return { child: child.child, pid: child.pid, origin: `http://127.0.0.1:${child.port}` }
    }
    const targets = [
      { id: 'C', label: 'gateway GET /me', start: gateway(ROOT, 'gateway'), path: '/me', method: 'GET', headers: caller },
      ...(CHALLENGER_DIR === undefined ? [] : [{ id: 'C2', label: `challenger GET /me (${CHALLENGER_DIR})`, start: gateway(CHALLENGER_DIR, 'challenger'), path: '/me', method: 'GET', headers: caller }]),
      { id: 'E', label: 'gateway POST /graphql', start: gateway(ROOT, 'gateway'), path: '/graphql', method: 'POST', headers: { ...json, ...caller }, body: graphqlBody },
      // The floors carry the same Fluent exchange as C: the byte-identical me document the gateway sends upstream.
      { id: 'R', label: 'forwarder POST /graphql (me)', start: helper('forwarder.js'), path: '/graphql', method: 'POST', headers: { ...json, authorization: 'Bearer bench-access-token' }, body: JSON.stringify({ query: ME, variables: {}, operationName: 'Me' }) },
      { id: 'B', label: 'passthrough POST /graphql (me)', start: helper('passthrough.js'), path: '/graphql', method: 'POST', headers: { ...json, authorization: 'Bearer bench-access-token' }, body: JSON.stringify({ query: ME, variables: {}, operationName: 'Me' }) }
    ].filter((target) => process.env.BENCH_INSTRUCTIONS_TARGETS === undefined || process.env.BENCH_INSTRUCTIONS_TARGETS.split(',').includes(target.id))

    const results = new Map(targets.map((target) => [target.id, []]))
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of targets) {
        const dir = join(work, `${target.id}-${round}`)
        mkdirSync(dir)
        const result = await measure(target, dir)
        results.get(target.id).push(result)
        rmSync(dir, { recursive: true, force: true })
        log(`round ${round} ${target.id} ${target.label}: ${Math.round(result.main).toLocaleString('en')} main-thread instructions per request, ${Math.round(result.all).toLocaleString('en')} all threads`)
      }
    }

    const first = targets[0].id
    const mainOf = (id) => median(results.get(id).map((result) => result.main))
    const header = ['target', 'main thread / req', 'all threads / req', `main ÷ ${first}`, 'main per round']
    const rows = targets.map((target) => [`${target.id} ${target.label}`, Math.round(mainOf(target.id)).toLocaleString('en'),
      Math.round(median(results.get(target.id).map((result) => result.all))).toLocaleString('en'), (mainOf(target.id) / mainOf(first)).toFixed(3),
      results.get(target.id).map((result) => Math.round(result.main).toLocaleString('en')).join(' ')])
    const intro = `instructions per request (callgrind), ${REQUESTS} requests at ${CONNECTIONS} connections after ${WARMUP} warm-up requests, each server a fresh process under valgrind, medians of ${ROUNDS} rounds; node ${process.version}`
    const { text, markdown } = table(header, rows)
    console.log([intro, '', text].join('\n'))
    writeFileSync(join(OUT, 'instructions.md'), [intro, '', markdown, ''].join('\n'))
    log('done; results in bench/out/instructions.md')
  } finally {
    killAll()
    rmSync(work, { recursive: true, force: true })
  }
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  killAll()
  process.exit(1)
})
