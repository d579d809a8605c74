// npm run bench: the gateway against a latency-bound fake Fluent and a bare Fastify proxy, interleaved rounds, one table.
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { benchGatewayEnv, cpuSeconds, envAssignments, forkHelper, killAll, PRODUCTION_NODE_ARGS, rssMb, startGateway, startRedis, stop, within, writeBenchTenant } from './processes.js'
import { formatSummary, summarise } from './profile-summary.js'
import { BENCH, fixed, median, numberFromEnv, OUT, ROOT, table } from './shared.js'
import { runStockLoad } from './stock-load.js'

const ROUNDS = numberFromEnv('BENCH_ROUNDS', 4)
const SECONDS = numberFromEnv('BENCH_SECONDS', 4)
/** Fixed-rate runs (three kinds, two sides, every round) are kept shorter than the flat-out ones. */
const RATE_SECONDS = Math.min(SECONDS, 3)
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 2)
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 50)
const PROFILE_SECONDS = numberFromEnv('BENCH_PROFILE_SECONDS', 8)
/** Which gateway target scenario 4 profiles: C (GET /me, the default), or another gateway target (D to H). */
const PROFILE_TARGET = process.env.BENCH_PROFILE_TARGET ?? 'C'
/** A hard bound on the whole bench: whatever hangs, it ends and its children die with it. */
const WHOLE_BENCH_MS = 8 * 60_000

/** A fixed-rate round counts only when the generator kept its schedule (paced) or reached the rate (autocannon). */
const MAX_LAG_P99_MS = 5
const MIN_RATE_SHARE = 0.95

/** BENCH_TARGETS=F,G,H runs only those targets of scenario 1 (B and R, the floors, and C and E, which the targets read, always run). */
const ONLY_TARGETS = process.env.BENCH_TARGETS === undefined ? undefined : new Set(process.env.BENCH_TARGETS.split(','))

/**
 * POST /orders as a storefront sends it: a known customer id, so one Fluent call (createOrder) per request. The bench
 * tenant has no default catalogue, so the items name theirs.
 */
const ORDER_BODY = {
  ref: 'HD-10001',
  customer: { id: '1' },
  items: [{ ref: 'HD-10001-1', productRef: 'MUG-BLUE', catalogueRef: 'PC:MASTER:1', quantity: 2, price: 12.5, currency: 'AUD' }, { ref: 'HD-10001-2', productRef: 'TEE-WHITE-M', catalogueRef: 'PC:MASTER:1', quantity: 1, price: 29, currency: 'AUD' }],
  delivery: { address: { name: 'Jane Doe', street: '10 Harbour Road', city: 'Sydney', postcode: '2000', country: 'AU' } },
  totalPrice: 54
}

/** GET /me req/s over the passthrough (B) and the forwarder (R); POST /graphql (E) over the passthrough. */
const TARGETS = { meOverPassthrough: 1.2, meOverForwarder: 0.6, graphqlOverPassthrough: 1.0, addedP50Ms: 0.5, addedP99Ms: 2, redisPerRequest: 0, rssMb: 150 }
/**
 * BENCH_CHALLENGER=<checkout with a build>, BENCH_CHALLENGER_NODE_ARGS="--flag ..." and/or BENCH_CHALLENGER_ENV: a second gateway (another
 * build, or this one under other V8 flags, given after production's) run beside the first in the same rounds, as C2 and E2, for a before/after
 * ratio per change from one run. The bench then runs scenario 1 only and ends with the comparison.
 */
const CHALLENGER_DIR = process.env.BENCH_CHALLENGER
const CHALLENGER_NODE_ARGS = (process.env.BENCH_CHALLENGER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')
/** BENCH_CHALLENGER_ENV="NAME=value ...": environment for the challenger only, over production's (e.g. an allocator setting). */
const CHALLENGER_ENV = envAssignments((process.env.BENCH_CHALLENGER_ENV ?? '').split(' ').filter((word) => word !== ''), 'BENCH_CHALLENGER_ENV')
const COMPARE = CHALLENGER_DIR !== undefined || CHALLENGER_NODE_ARGS.length > 0 || Object.keys(CHALLENGER_ENV).length > 0
/** BENCH_STOCK=0 leaves scenario 5 (the million-row stock load) out, for quick looks at the hot path. */
const STOCK = process.env.BENCH_STOCK !== '0'

/** Talks to the load generator child: one request at a time, each bounded in time. */
function loadClient (helper) {
  let next = 0
  const pending = new Map()
  helper.child.on('message', (message) => {
    const waiter = pending.get(message.id)
    if (waiter === undefined) return
    pending.delete(message.id)
    if (message.error === undefined) waiter.resolve(message.result)
    else waiter.reject(new Error(message.error))
  })
  return async (kind, options) => await within((options.durationSeconds + 30) * 1000, `load run against ${options.url}`, new Promise((resolve, reject) => {
    const id = ++next
    pending.set(id, { resolve, reject })
    helper.child.send({ id, kind, options })
  }))
}

/** Samples a process's RSS every 200 ms; the returned function stops sampling and answers the maximum seen. */
function sampleRss (pid) {
  let max = rssMb(pid) ?? 0
  const timer = setInterval(() => { max = Math.max(max, rssMb(pid) ?? 0) }, 200)
  return () => {
    clearInterval(timer)
    return Math.max(max, rssMb(pid) ?? 0)
  }
}

async function commandStats (redis) {
  const text = await redis.info('commandstats')
  const stats = {}
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats[match[1]] = Number(match[2])
  return stats
}

/** Commands the gateway sent between two snapshots; INFO is the bench's own probe and is left out. */
function commandDelta (before, after) {
  const delta = {}
  for (const [name, calls] of Object.entries(after)) {
    const sent = calls - (before[name] ?? 0)
    if (name !== 'info' && name !== 'monitor' && sent > 0) delta[name] = sent
  }
  return delta
}

/** The key family of a Redis command (`token`, `lock`, ...): the part after the gateway prefix, before the next colon. */
function keyFamily (args, prefix) {
  const name = String(args[0]).toLowerCase()
  const key = name === 'eval' || name === 'evalsha' ? args[3] : args[1]
  if (key === undefined) return '(no key)'
  const text = String(key)
  const rest = text.startsWith(prefix) ? text.slice(prefix.length) : text
  return `${text.startsWith(prefix) ? prefix : ''}${rest.split(':')[0]}`
}

const TOKEN_FAMILIES = new Set(['token', 'lock', 'authfail'])

async function main () {
  const started = Date.now()
  const loadStart = loadavg()[0]
  const guard = setTimeout(() => {
    console.error(`bench: still running after ${WHOLE_BENCH_MS / 1000} s; giving up`)
    process.exit(1)
  }, WHOLE_BENCH_MS)
  guard.unref()
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => { killAll(); process.exit(130) })

  const work = mkdtempSync(join(tmpdir(), 'fgw-bench-'))
  mkdirSync(OUT, { recursive: true })
  const log = (message) => console.error(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}`)

  try {
    const redis = await startRedis(work)
    const fake = await forkHelper(join(BENCH, 'fake-fluent.js'))
    const fakeOrigin = `http://127.0.0.1:${fake.port}`
    const passthrough = await forkHelper(join(BENCH, 'passthrough.js'), { UPSTREAM: fakeOrigin })
    const passthroughOrigin = `http://127.0.0.1:${passthrough.port}`
    const forwarder = await forkHelper(join(BENCH, 'forwarder.js'), { UPSTREAM: fakeOrigin })
    const forwarderOrigin = `http://127.0.0.1:${forwarder.port}`
    const loadHelper = await forkHelper(join(BENCH, 'load.js'))
    const load = loadClient(loadHelper)
    log(`redis ${redis.url}, fake Fluent ${fakeOrigin} (pid ${fake.pid}), passthrough ${passthroughOrigin} (pid ${passthrough.pid}), forwarder ${forwarderOrigin} (pid ${forwarder.pid})`)

    const { tenantsFile, apiKey } = writeBenchTenant(work, fakeOrigin)

    // Production settings: defaults for everything (metrics and rate limiting on), except a rate limit the bench cannot reach.
    const { env: gatewayEnv, schema, rateLimitKeys } = await benchGatewayEnv(ROOT, { tenantsFile, redisUrl: redis.url })
    const prefix = schema.REDIS_KEY_PREFIX?.default ?? 'fgw:'
    const notes = [rateLimitKeys.length === 0
      ? 'the gateway has no RATE_LIMIT_*MAX variable yet: it ran without a rate limit'
      : `rate limit set out of reach: ${rateLimitKeys.map((name) => `${name}=${gatewayEnv[name]}`).join(', ')}`]
    log(notes[0])

    // The access log goes to a real file, as a container's stdout does, not to /dev/null.
    const accessLog = join(work, 'gateway-access.log')
    const gateway = await startGateway({ cwd: ROOT, env: gatewayEnv, logFile: accessLog })
    await sleep(500)
    const idleRss = { gateway: rssMb(gateway.pid), passthrough: rssMb(passthrough.pid), forwarder: rssMb(forwarder.pid), fake: rssMb(fake.pid) }
    log(`gateway ${gateway.origin} (pid ${gateway.pid}); idle RSS MB: gateway ${fixed(idleRss.gateway, 0)}, passthrough ${fixed(idleRss.passthrough, 0)}, fake ${fixed(idleRss.fake, 0)}`)

    const { ME } = await import(join(ROOT, 'dist/fluent/me.js'))
    // The same bytes the gateway sends upstream for GET /me, so the passthrough carries an identical Fluent exchange.
    const meBody = JSON.stringify({ query: ME, variables: {}, operationName: 'Me' })
    const passthroughBody = JSON.stringify({
      query: 'query Orders { orders(first: 3) { edges { cursor node { id ref status type totalPrice } } pageInfo { hasNextPage } } }',
      variables: {},
      operationName: 'Orders'
    })
    const json = { 'content-type': 'application/json' }
    const fluentAuth = { authorization: 'Bearer bench-access-token' }
    const callerAuth = { authorization: `Bearer ${apiKey}` }

    const probe = await fetch(`${gateway.origin}/me`, { headers: callerAuth })
    if (probe.status !== 200) throw new Error(`GET /me answered ${probe.status}: ${await probe.text()}`)
    const redisClient = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    await redisClient.connect()

    const targets = [
      { id: 'A', label: 'fake Fluent POST /graphql (direct)', pid: fake.pid, url: `${fakeOrigin}/graphql`, method: 'POST', headers: { ...json, ...fluentAuth }, body: passthroughBody },
      { id: 'B', label: 'passthrough POST /graphql', pid: passthrough.pid, url: `${passthroughOrigin}/graphql`, method: 'POST', headers: { ...json, ...fluentAuth }, body: passthroughBody },
      { id: 'R', label: 'forwarder POST /graphql', pid: forwarder.pid, url: `${forwarderOrigin}/graphql`, method: 'POST', headers: { ...json, ...fluentAuth }, body: passthroughBody },
      { id: 'C', label: 'gateway GET /me', pid: gateway.pid, gateway: true, url: `${gateway.origin}/me`, method: 'GET', headers: callerAuth },
      { id: 'D', label: 'gateway POST /customers', pid: gateway.pid, gateway: true, url: `${gateway.origin}/customers`, method: 'POST', headers: { ...json, ...callerAuth }, body: JSON.stringify({ email: 'jane.doe@example.com', firstName: 'Jane' }) },
      { id: 'E', label: 'gateway POST /graphql', pid: gateway.pid, gateway: true, url: `${gateway.origin}/graphql`, method: 'POST', headers: { ...json, ...callerAuth }, body: passthroughBody },
      { id: 'F', label: 'gateway GET /orders/{ref}', pid: gateway.pid, gateway: true, url: `${gateway.origin}/orders/HD-10001`, method: 'GET', headers: callerAuth },
      { id: 'G', label: 'gateway GET /stock (20 a page)', pid: gateway.pid, gateway: true, url: `${gateway.origin}/stock?locationRef=LOC-SYD-01`, method: 'GET', headers: callerAuth },
      { id: 'H', label: 'gateway POST /orders (customer id)', pid: gateway.pid, gateway: true, url: `${gateway.origin}/orders`, method: 'POST', headers: { ...json, ...callerAuth }, body: JSON.stringify(ORDER_BODY) }
    ].filter((target) => ONLY_TARGETS === undefined || ONLY_TARGETS.has(target.id) || ['B', 'R', 'C', 'E'].includes(target.id))
    let challenger
    if (COMPARE) {
      challenger = await startGateway({ cwd: CHALLENGER_DIR ?? ROOT, env: { ...gatewayEnv, ...CHALLENGER_ENV }, logFile: join(work, 'challenger-access.log'), nodeArgs: [...PRODUCTION_NODE_ARGS, ...CHALLENGER_NODE_ARGS] })
      const under = [...Object.entries(CHALLENGER_ENV).map(([name, value]) => `${name}=${value}`), ...CHALLENGER_NODE_ARGS]
      const what = `${CHALLENGER_DIR ?? 'this build'}${under.length > 0 ? ` under ${under.join(' ')}` : ''}`
      log(`challenger gateway ${challenger.origin} (pid ${challenger.pid}): ${what}; idle RSS ${fixed(rssMb(challenger.pid), 0)} MB`)
      notes.push(`challenger (C2, E2): ${what}`)
      // Each gateway target gets its twin on the challenger, run right after it in every round.
      for (const target of targets.filter((t) => t.gateway)) {
        targets.splice(targets.indexOf(target) + 1, 0, { ...target, id: `${target.id}2`, label: `challenger ${target.label.replace('gateway ', '')}`, pid: challenger.pid, url: target.url.replace(gateway.origin, challenger.origin), twinOf: target.id })
      }
    }

    // Scenario 1: each target flat out, interleaved A B C D E F G H per round, medians over rounds.
    log(`warm-up: ${WARMUP_SECONDS} s per target`)
    for (const target of targets) {
      await load('closed', { url: target.url, method: target.method, headers: target.headers, body: target.body, connections: CONNECTIONS, durationSeconds: WARMUP_SECONDS })
    }
    const runs = new Map(targets.map((target) => [target.id, []]))
    const commands = new Map(targets.filter((target) => target.gateway).map((target) => [target.id, { requests: 0, delta: {} }]))
    for (let round = 1; round <= ROUNDS; round++) {
      for (const target of targets) {
        const before = target.gateway ? await commandStats(redisClient) : undefined
        const stopRss = sampleRss(target.pid)
        const cpuBefore = cpuSeconds(target.pid)
        const result = await load('closed', { url: target.url, method: target.method, headers: target.headers, body: target.body, connections: CONNECTIONS, durationSeconds: SECONDS })
        result.cpuUs = (cpuSeconds(target.pid) - cpuBefore) * 1e6 / (result.ok + result.non2xx)
        result.rssMb = stopRss()
        if (before !== undefined) {
          const tally = commands.get(target.id)
          tally.requests += result.ok + result.non2xx
          for (const [name, calls] of Object.entries(commandDelta(before, await commandStats(redisClient)))) tally.delta[name] = (tally.delta[name] ?? 0) + calls
        }
        runs.get(target.id).push(result)
        log(`round ${round} ${target.id} ${target.label}: ${fixed(result.rps, 0)} req/s, ${fixed(result.cpuUs, 0)} µs CPU/req, p50 ${fixed(result.p50, 2)} ms, p99 ${fixed(result.p99, 2)} ms${result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`)
      }
    }
    const floor = runs.get('B')
    const forwarderRuns = runs.get('R')
    const scenario1 = targets.map((target) => {
      const results = runs.get(target.id)
      const ratio = (field) => median(results.map((result, index) => result[field] / floor[index][field]))
      return {
        id: target.id,
        label: target.label,
        rps: median(results.map((result) => result.rps)),
        p50: median(results.map((result) => result.p50)),
        p99: median(results.map((result) => result.p99)),
        rssMb: Math.max(...results.map((result) => result.rssMb)),
        cpuUs: median(results.map((result) => result.cpuUs)),
        cpuRatio: ratio('cpuUs'),
        rpsRatio: ratio('rps'),
        rpsRatioR: median(results.map((result, index) => result.rps / forwarderRuns[index].rps)),
        p50Ratio: ratio('p50'),
        p99Ratio: ratio('p99'),
        failed: results.reduce((sum, result) => sum + result.non2xx + result.errors, 0)
      }
    })

    if (COMPARE) {
      const rows = targets.filter((target) => target.twinOf !== undefined).map((target) => {
        const mine = runs.get(target.id)
        const theirs = runs.get(target.twinOf)
        const ratio = (field) => median(mine.map((result, index) => result[field] / theirs[index][field]))
        const row = scenario1.find((r) => r.id === target.id)
        return [`${target.id} ÷ ${target.twinOf} ${target.label}`, fixed(ratio('rps'), 2), fixed(ratio('cpuUs'), 2), fixed(ratio('p99'), 2),
          `${fixed(scenario1.find((r) => r.id === target.twinOf).rssMb, 0)} / ${fixed(row.rssMb, 0)}`, mine.map((result, index) => fixed(result.cpuUs / theirs[index].cpuUs, 2)).join(' ')]
      })
      const s1 = table(['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'max RSS MB', 'req/s ÷ B', 'req/s ÷ R', 'failed'],
        scenario1.map((row) => [`${row.id} ${row.label}`, fixed(row.rps, 0), fixed(row.p50, 2), fixed(row.p99, 2), fixed(row.cpuUs, 0), fixed(row.rssMb, 0), fixed(row.rpsRatio, 2), fixed(row.rpsRatioR, 2), row.failed]))
      const comparison = table(['challenger ÷ gateway (medians of per-round ratios)', 'req/s', 'CPU µs/req', 'p99', 'max RSS MB gw / ch', 'CPU ratio per round'], rows)
      console.log([s1.text, '', comparison.text, '', ...notes].join('\n'))
      writeFileSync(join(OUT, 'compare.md'), [s1.markdown, '', comparison.markdown, '', ...notes.map((line) => `- ${line}`), ''].join('\n'))
      log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in bench/out/compare.md`)
      return
    }

    // Scenario 2: fixed rates, half (the target) and a quarter of the forwarder's max; forwarder POST /graphql (me)
    // against gateway GET /me (the passthrough's own max is about half the forwarder's, so it would queue), on the warm processes of scenario 1 (a fresh process spends its first seconds in JIT and
    // heap growth, which would be measured instead of the gateway).
    const rate = Math.max(50, Math.floor(scenario1.find((row) => row.id === 'R').rps / 2))
    const fixedTargets = [
      { id: 'P', label: 'forwarder POST /graphql (me)', pid: forwarder.pid, url: `${forwarderOrigin}/graphql`, method: 'POST', headers: { ...json, ...fluentAuth }, body: meBody },
      { id: 'G', label: 'gateway GET /me', pid: gateway.pid, url: `${gateway.origin}/me`, method: 'GET', headers: callerAuth }
    ]
    const modes = [
      { mode: 'paced', label: `paced, ${rate} req/s (1/2 of R)`, kind: 'paced', rate },
      { mode: 'quarter', label: `paced, ${Math.floor(rate / 2)} req/s (1/4 of R)`, kind: 'paced', rate: Math.floor(rate / 2) },
      { mode: 'autocannon', label: `autocannon overallRate, ${rate} req/s`, kind: 'closed', rate }
    ]
    const fixedRuns = Object.fromEntries(modes.map(({ mode }) => [mode, { P: [], G: [] }]))
    for (const { mode, label, kind, rate: modeRate } of modes) {
      log(`fixed rate: ${label}`)
      for (let round = 1; round <= ROUNDS; round++) {
        // ABBA order: neither side always runs first after a pause.
        const order = round % 2 === 1 ? fixedTargets : [...fixedTargets].reverse()
        for (const target of order) {
          const options = { url: target.url, method: target.method, headers: target.headers, body: target.body, connections: CONNECTIONS, durationSeconds: RATE_SECONDS }
          const cpuBefore = cpuSeconds(target.pid)
          const result = await load(kind, kind === 'paced' ? { ...options, rate: modeRate } : { ...options, overallRate: modeRate })
          result.cpuUs = (cpuSeconds(target.pid) - cpuBefore) * 1e6 / (result.ok + result.non2xx)
          result.valid = result.rps >= MIN_RATE_SHARE * modeRate && (kind !== 'paced' || result.lagP99Ms <= MAX_LAG_P99_MS)
          fixedRuns[mode][target.id].push(result)
          log(`  ${mode} round ${round} ${target.id}: ${fixed(result.rps, 0)} req/s, p50 ${fixed(result.p50, 3)} ms, p99 ${fixed(result.p99, 3)} ms` +
            `${result.lagP99Ms === undefined ? '' : `, generator lag p99 ${fixed(result.lagP99Ms, 2)} ms`}${result.valid ? '' : ' (INVALID: off schedule)'}`)
        }
      }
    }
    // busy: the share of one core the process used over the run (CPU seconds ÷ seconds); a queue's tail after any
    // stall grows with busy ÷ (1 - busy), so this column says how close to its own limit each side ran.
    const side = (results) => ({
      rps: median(results.map((r) => r.rps)),
      p50: median(results.map((r) => r.p50)),
      p99: median(results.map((r) => r.p99)),
      cpuUs: median(results.map((r) => r.cpuUs)),
      busy: median(results.map((r) => r.cpuUs * r.rps / 1e6))
    })
    const scenario2 = modes.map(({ mode, label }) => {
      const byTarget = fixedRuns[mode]
      // Only rounds where both sides kept the rate: an overloaded machine turns an open-loop run into a queue.
      const pairs = byTarget.G.map((result, index) => [byTarget.P[index], result]).filter(([p, g]) => p.valid && g.valid)
      const added = (field) => median(pairs.map(([p, g]) => g[field] - p[field]))
      return {
        mode,
        label,
        passthrough: side(byTarget.P),
        gateway: side(byTarget.G),
        addedP50: added('p50'),
        addedP99: added('p99'),
        failed: [...byTarget.P, ...byTarget.G].reduce((sum, result) => sum + result.non2xx + result.errors, 0),
        validRounds: pairs.length
      }
    })

    // Scenario 3: which key families the hot path touches, from MONITOR over a short sequential GET /me sample.
    const monitor = await redisClient.monitor()
    const families = {}
    const inScripts = new Set()
    monitor.on('monitor', (_time, args, source) => {
      const family = keyFamily(args, prefix)
      // Commands a Lua script runs show up with source "lua": executed by Redis, but not a round trip from the gateway.
      const viaScript = source === 'lua'
      const name = `${String(args[0]).toLowerCase()}${viaScript ? ' (in script)' : ''}`
      if (viaScript) inScripts.add(String(args[0]).toLowerCase())
      families[family] ??= {}
      families[family][name] = (families[family][name] ?? 0) + 1
    })
    const SAMPLE = 200
    for (let i = 0; i < SAMPLE; i++) {
      const response = await fetch(`${gateway.origin}/me`, { headers: callerAuth, signal: AbortSignal.timeout(5_000) })
      await response.arrayBuffer()
    }
    await sleep(200)
    monitor.disconnect()

    // Scenario 3c: what an Idempotency-Key costs in Redis, from MONITOR over sequential POST /customers: without a key,
    // a fresh key each time, and one key replayed (the first of those creates, the rest replay).
    const customerBody = JSON.stringify({ email: 'jane.doe@example.com', firstName: 'Jane' })
    const idemRuns = []
    for (const [label, keyOf] of [['no key', () => undefined], ['fresh key each', (i) => `bench-fresh-${process.pid}-${i}`], ['same key (replays)', () => `bench-same-${process.pid}`]]) {
      const watch = await redisClient.duplicate().monitor()
      const seen = { sent: 0, inScripts: 0, idemSent: 0, byName: {} }
      watch.on('monitor', (_time, args, source) => {
        const viaScript = source === 'lua'
        const name = `${String(args[0]).toLowerCase()}${viaScript ? ' (in script)' : ''}`
        seen.byName[name] = (seen.byName[name] ?? 0) + 1
        if (viaScript) seen.inScripts++
        else seen.sent++
        if (!viaScript && keyFamily(args, prefix) === `${prefix}idem`) seen.idemSent++
      })
      let ok = 0
      for (let i = 0; i < SAMPLE; i++) {
        const key = keyOf(i)
        const response = await fetch(`${gateway.origin}/customers`, {
          method: 'POST',
          headers: { ...json, ...callerAuth, ...(key === undefined ? {} : { 'idempotency-key': key }) },
          body: customerBody,
          signal: AbortSignal.timeout(5_000)
        })
        await response.arrayBuffer()
        if (response.status === 201) ok++
      }
      await sleep(200)
      watch.disconnect()
      idemRuns.push({ label, requests: SAMPLE, ok, ...seen })
    }
    const fakeStats = await (await fetch(`${fakeOrigin}/__stats`)).json()

    await stop(gateway.child)
    await stop(passthrough.child)
    await stop(forwarder.child)

    // Scenario 4: a fresh gateway under --cpu-prof, one route flat out; only samples taken while the load ran count.
    const profileDir = join(work, 'profile')
    const profiled = await startGateway({ cwd: ROOT, env: gatewayEnv, logFile: accessLog, nodeArgs: [...PRODUCTION_NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${profileDir}`] })
    const profiledTarget = targets.find((target) => target.id === PROFILE_TARGET && target.gateway)
    if (profiledTarget === undefined) throw new Error(`BENCH_PROFILE_TARGET must name a gateway target that runs (C to H), not ${PROFILE_TARGET}`)
    const profileName = `gateway-${profiledTarget.id}.cpuprofile`
    log(`profiling gateway pid ${profiled.pid}: ${profiledTarget.label} for ${PROFILE_SECONDS} s`)
    const meTarget = {
      url: profiledTarget.url.replace(gateway.origin, profiled.origin),
      method: profiledTarget.method,
      headers: profiledTarget.headers,
      body: profiledTarget.body,
      connections: CONNECTIONS
    }
    // JIT warm-up and the first heap growth before the profiled window, so the profile shows the steady state.
    await load('closed', { ...meTarget, durationSeconds: 3 })
    const fromUs = Number(process.hrtime.bigint() / 1000n)
    const profileRun = await load('closed', { ...meTarget, durationSeconds: PROFILE_SECONDS })
    const toUs = Number(process.hrtime.bigint() / 1000n)
    await stop(profiled.child, 20_000)
    const profileFile = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'))
    if (profileFile === undefined) throw new Error('the profiled gateway wrote no .cpuprofile')
    copyFileSync(join(profileDir, profileFile), join(OUT, profileName))
    const profile = JSON.parse(readFileSync(join(profileDir, profileFile), 'utf8'))
    const profileSummary = summarise(profile, { fromUs, toUs })

    await redisClient.quit()

    // Report.
    const cores = availableParallelism()
    const loadEnd = loadavg()[0]
    const date = new Date().toISOString()
    const s1 = table(
      ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'max RSS MB', 'req/s ÷ B', 'req/s ÷ R', 'p50 ÷ B', 'p99 ÷ B', 'CPU ÷ B', 'failed'],
      scenario1.map((row) => [`${row.id} ${row.label}`, fixed(row.rps, 0), fixed(row.p50, 2), fixed(row.p99, 2), fixed(row.cpuUs, 0), fixed(row.rssMb, 0),
        fixed(row.rpsRatio, 2), fixed(row.rpsRatioR, 2), fixed(row.p50Ratio, 2), fixed(row.p99Ratio, 2), fixed(row.cpuRatio, 2), row.failed])
    )
    const s2 = table(
      ['fixed rate', 'valid rounds', 'forwarder p50', 'gateway p50', 'added p50', 'forwarder p99', 'gateway p99', 'added p99', 'CPU µs/req fwd / gw', 'busy fwd / gw', 'failed'],
      scenario2.map((row) => [row.label, `${row.validRounds}/${ROUNDS}`, fixed(row.passthrough.p50, 3), fixed(row.gateway.p50, 3), fixed(row.addedP50, 3),
        fixed(row.passthrough.p99, 3), fixed(row.gateway.p99, 3), fixed(row.addedP99, 3), `${fixed(row.passthrough.cpuUs, 0)} / ${fixed(row.gateway.cpuUs, 0)}`,
        `${fixed(row.passthrough.busy, 2)} / ${fixed(row.gateway.busy, 2)}`, row.failed])
    )
    const commandRows = []
    for (const [id, tally] of commands) {
      const names = Object.keys(tally.delta).sort()
      const sent = names.filter((name) => !inScripts.has(name)).reduce((sum, name) => sum + tally.delta[name], 0)
      commandRows.push([`${id} ${targets.find((target) => target.id === id).label}`, tally.requests,
        fixed(Object.values(tally.delta).reduce((sum, calls) => sum + calls, 0) / tally.requests, 3),
        fixed(sent / tally.requests, 3),
        names.length === 0 ? '-' : names.map((name) => `${name}${inScripts.has(name) ? ' (in script)' : ''} ${fixed(tally.delta[name] / tally.requests, 3)}`).join(', ')])
    }
    const s3 = table(['gateway run (INFO commandstats)', 'requests', 'executed/request', 'round trips/request', 'by command (per request)'], commandRows)
    const familyRows = Object.entries(families).map(([family, byName]) => {
      const calls = Object.entries(byName)
      const count = (viaScript) => calls.filter(([name]) => name.endsWith('(in script)') === viaScript).reduce((sum, [, n]) => sum + n, 0)
      return [family, TOKEN_FAMILIES.has(family.replace(prefix, '')) ? 'token' : family.includes('ratelimit') ? 'rate limit' : 'other',
        fixed(count(false) / SAMPLE, 3), fixed(count(true) / SAMPLE, 3),
        calls.map(([name, n]) => `${name} ${fixed(n / SAMPLE, 3)}`).join(', ')]
    })
    const s3b = table(['key family (MONITOR, 200 GET /me)', 'kind', 'round trips/request', 'in scripts/request', 'by command'],
      familyRows.length === 0 ? [['(none)', '-', '0.000', '0.000', '-']] : familyRows)

    const s3c = table(['POST /customers, 200 sequential (MONITOR)', '201s', 'round trips/request', 'of them idem/request', 'in scripts/request', 'by command (per request)'],
      idemRuns.map((run) => [run.label, run.ok, fixed(run.sent / run.requests, 3), fixed(run.idemSent / run.requests, 3), fixed(run.inScripts / run.requests, 3),
        Object.entries(run.byName).sort().map(([name, n]) => `${name} ${fixed(n / run.requests, 3)}`).join(', ') || '-']))
    const fresh = idemRuns.find((run) => run.label === 'fresh key each')
    const replays = idemRuns.find((run) => run.label === 'same key (replays)')

    const me = scenario1.find((row) => row.id === 'C')
    const graphql = scenario1.find((row) => row.id === 'E')
    const paced = scenario2.find((row) => row.mode === 'paced')
    const quarter = scenario2.find((row) => row.mode === 'quarter')
    const perKind = (kind) => familyRows.filter((row) => row[1] === kind).reduce((sum, row) => sum + Number(row[2]) + Number(row[3]), 0)
    const tokenPerRequest = perKind('token')
    const maxRss = Math.max(...scenario1.filter((row) => targets.find((target) => target.id === row.id).gateway).map((row) => row.rssMb))
    const verdict = (ok) => (ok ? 'holds' : 'MISSED')
    const verdictOf = (value, ok) => (Number.isFinite(value) ? verdict(ok) : 'NOT MEASURED (no valid round: the machine was too busy)')
    const busiest = Math.max(...targets.filter((target) => target.gateway).map((target) => median(runs.get(target.id).map((result) => result.rps))))
    const targetLines = [
      `GET /me throughput ÷ passthrough: ${fixed(me.rpsRatio, 2)} (target >= ${TARGETS.meOverPassthrough}): ${verdict(me.rpsRatio >= TARGETS.meOverPassthrough)}; ` +
        `÷ forwarder: ${fixed(me.rpsRatioR, 2)} (target >= ${TARGETS.meOverForwarder}): ${verdict(me.rpsRatioR >= TARGETS.meOverForwarder)}; ` +
        `CPU per request ÷ passthrough: ${fixed(me.cpuRatio, 2)}`,
      `POST /graphql throughput ÷ passthrough: ${fixed(graphql.rpsRatio, 2)} (target >= ${TARGETS.graphqlOverPassthrough}): ${verdict(graphql.rpsRatio >= TARGETS.graphqlOverPassthrough)}; ` +
        `÷ forwarder: ${fixed(graphql.rpsRatioR, 2)}`,
      `added latency at ${rate} req/s (paced): p50 ${fixed(paced.addedP50, 3)} ms (target < ${TARGETS.addedP50Ms}): ${verdictOf(paced.addedP50, paced.addedP50 < TARGETS.addedP50Ms)}, ` +
        `p99 ${fixed(paced.addedP99, 3)} ms (target < ${TARGETS.addedP99Ms}): ${verdictOf(paced.addedP99, paced.addedP99 < TARGETS.addedP99Ms)}; ` +
        `at ${Math.floor(rate / 2)} req/s: p50 ${fixed(quarter.addedP50, 3)} ms, p99 ${fixed(quarter.addedP99, 3)} ms; ` +
        `at ${rate} req/s the gateway kept ${fixed(paced.gateway.busy, 2)} of a core busy, the forwarder ${fixed(paced.passthrough.busy, 2)}`,
      `Redis commands per request for token work, warm token: ${fixed(tokenPerRequest, 3)} (target 0): ${verdict(tokenPerRequest === 0)}; ` +
        `rate limit: ${fixed(familyRows.filter((row) => row[1] === 'rate limit').reduce((sum, row) => sum + Number(row[2]), 0), 3)} round trip(s) ` +
        `running ${fixed(perKind('rate limit'), 3)} command(s)`,
      `Idempotency-Key, Redis round trips for its records per request: fresh key ${fixed(fresh.idemSent / fresh.requests, 3)} (lock, then the answer stored), ` +
        `replay ${fixed(replays.idemSent / replays.requests, 3)} (target: at most 1 extra): fresh ${verdict(fresh.idemSent / fresh.requests <= 1)}, replay ${verdict(replays.idemSent / replays.requests <= 1)}`,
      `gateway max RSS flat out (up to ${fixed(busiest, 0)} req/s): ${fixed(maxRss, 0)} MB (target < ${TARGETS.rssMb}): ${verdict(maxRss < TARGETS.rssMb)}; ` +
        `idle after boot: ${fixed(idleRss.gateway, 0)} MB (passthrough idle ${fixed(idleRss.passthrough, 0)} MB, forwarder ${fixed(idleRss.forwarder, 0)} MB)`
    ]
    notes.push(`fixed-rate rounds count only when the paced generator's lag p99 <= ${MAX_LAG_P99_MS} ms and both sides reached ${MIN_RATE_SHARE * 100}% of the rate; ` +
      `valid rounds: ${scenario2.map((row) => `${row.mode} ${row.validRounds}/${ROUNDS}`).join(', ')}`)
    notes.push('floors: B passthrough (Fastify + @fastify/http-proxy, no logger), R forwarder (node:http + undici Pool.request, no logger); the gateway logs at info to a file')
    notes.push(`token requests to the fake Fluent over the whole bench: ${fakeStats.token} (one per cold process start, then L1/L2)`)
    notes.push(`profiled run: ${fixed(profileRun.rps, 0)} req/s under --cpu-prof; profile kept in bench/out/${profileName}`)

    const header = `fluent-rest-gateway bench, ${date}, ${cores} cores (nproc), node ${process.version}; ` +
      `1-min load average ${fixed(loadStart, 1)} at start, ${fixed(loadEnd, 1)} at end; ${ROUNDS} interleaved rounds of ${SECONDS} s (fixed-rate runs ${RATE_SECONDS} s) after ${WARMUP_SECONDS} s warm-up, ${CONNECTIONS} connections, fake Fluent delay 1 ms`
    const report = [
      header, '',
      'Scenario 1: flat out (medians over rounds; ratios are medians of per-round ratios to B)', s1.text, '',
      'Scenario 2: fixed rates (added = gateway minus passthrough, median of per-round differences over valid rounds)', s2.text, '',
      'Scenario 3: Redis commands per request', s3.text, '', s3b.text, '', s3c.text, '',
      `Scenario 4: CPU profile of the gateway under ${profiledTarget.label}`, formatSummary(profileSummary, 20), '',
      'Targets', ...targetLines.map((line) => `  ${line}`), '',
      'Notes', ...notes.map((line) => `  ${line}`)
    ].join('\n')
    console.log(report)
    const markdown = [`${header}`, '', '#### Scenario 1: flat out', '', s1.markdown, '', '#### Scenario 2: fixed rate', '', s2.markdown, '',
      '#### Scenario 3: Redis commands per request', '', s3.markdown, '', s3b.markdown, '', s3c.markdown, '',
      '#### Targets', '', ...targetLines.map((line) => `- ${line}`), '', ...notes.map((line) => `- ${line}`), ''].join('\n')
    writeFileSync(join(OUT, 'results.md'), markdown)
    writeFileSync(join(OUT, 'results.json'), JSON.stringify({ date, cores, node: process.version, rate, idleRss, scenario1, scenario2, commands: Object.fromEntries(commands), families, idemRuns, fakeStats, runs: Object.fromEntries(runs), fixedRuns, profileTop: profileSummary.functions.slice(0, 40), profileModules: profileSummary.modules }, null, 2))
    writeFileSync(join(OUT, 'profile.txt'), formatSummary(profileSummary, 40) + '\n')
    log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; results in bench/out/`)
  } finally {
    killAll()
    rmSync(work, { recursive: true, force: true })
  }
}

await main()
// Scenario 5, on its own processes once the others have gone: a million-row PUT /stock (bench/stock-load.js).
if (STOCK && !COMPARE) await runStockLoad()
// Children are gone; nothing left should hold the process open, but make sure the bench ends by itself.
process.exit(0)
