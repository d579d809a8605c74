// node bench/stock-load.js (and the end of npm run bench): a generated 1,000,000-row CSV through PUT /stock against a fake
// Job API; prints rows per second, batches sent and the gateway's RSS growth during the upload.
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { PRODUCTION_NODE_ARGS, rssMb, startGateway, startRedis, stop, writeBenchTenant } from './processes.js'
import { ROOT } from './shared.js'

const ROWS = Number(process.env.BENCH_STOCK_ROWS ?? 1_000_000)
const TARGETS = { rowsPerSecond: 50_000, rssGrowthMb: 64 }
const WHOLE_BENCH_MS = 5 * 60_000

/** A Fluent that answers the token, job and batch calls only: counts, checks the 5,000 limit, keeps nothing. */
async function startFakeJobApi () {
  const stats = { jobs: 0, batches: 0, entities: 0, refused: 0 }
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const answer = (status, body) => {
        const payload = JSON.stringify(body)
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
        res.end(payload)
      }
      if (req.url === '/oauth/token') return answer(200, { access_token: 'bench-token', token_type: 'bearer', expires_in: 86400, scope: 'api' })
      if (req.method === 'POST' && req.url === '/api/v4.1/job') return answer(200, { id: String(++stats.jobs) })
      if (req.method === 'POST' && /^\/api\/v4\.1\/job\/\d+\/batch$/.test(req.url)) {
        const { entities } = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        if (!Array.isArray(entities) || entities.length > 5000) {
          stats.refused++
          return answer(400, { errors: [{ message: 'at most 5000 entities' }] })
        }
        stats.entities += entities.length
        return answer(200, { id: String(++stats.batches) })
      }
      answer(404, { errors: [{ message: 'not here' }] })
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, stats, origin: `http://127.0.0.1:${server.address().port}` }
}

/** About 30 bytes a row: `SKU-0000042,LOCATION-0042,117`. */
async function writeCsv (path, rows) {
  const out = createWriteStream(path)
  out.write('productRef,locationRef,quantity\n')
  let chunk = ''
  for (let index = 0; index < rows; index++) {
    chunk += `SKU-${String(index).padStart(7, '0')},LOCATION-${String(index % 500).padStart(4, '0')},${index % 997}\n`
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'close')
}

async function upload (origin, apiKey, path) {
  const size = statSync(path).size
  const response = await fetch(`${origin}/stock`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'text/csv', 'content-length': String(size) },
    body: Readable.toWeb(createReadStream(path)),
    duplex: 'half'
  })
  return { status: response.status, body: await response.json() }
}

export async function runStockLoad () {
  const work = mkdtempSync(join(tmpdir(), 'fgw-bench-stock-'))
  const log = (message) => console.error(`[stock] ${message}`)
  let redis
  try {
    redis = await startRedis(work)
    const fake = await startFakeJobApi()
    const { tenantsFile, apiKey } = writeBenchTenant(work, fake.origin)
    const csv = join(work, 'stock.csv')
    const warm = join(work, 'warm.csv')
    await writeCsv(csv, ROWS)
    await writeCsv(warm, 20_000)
    log(`${ROWS} rows, ${(statSync(csv).size / 1024 / 1024).toFixed(1)} MB at ${csv}`)

    // Spool files go to the work directory, so the bench leaves nothing behind and can prove it.
    // Production's V8 flags, then any BENCH_STOCK_NODE_ARGS (the last of a repeated flag wins).
    const nodeArgs = [...PRODUCTION_NODE_ARGS, ...(process.env.BENCH_STOCK_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')]
    const gateway = await startGateway({
      cwd: ROOT,
      nodeArgs,
      env: {
        LOG_LEVEL: 'warn',
        TENANTS_FILE: tenantsFile,
        REDIS_URL: redis.url,
        TMPDIR: work,
        // Bigger runs (BENCH_STOCK_ROWS) show whether memory follows the file size; the default limit holds 1.7 M rows.
        ...(ROWS > 1_500_000 ? { STOCK_UPLOAD_LIMIT_BYTES: String(1024 * 1024 * 1024) } : {})
      }
    })
    const warmAnswer = await upload(gateway.origin, apiKey, warm)
    if (warmAnswer.status !== 202) throw new Error(`warm-up upload answered ${warmAnswer.status}: ${JSON.stringify(warmAnswer.body)}`)
    await sleep(500)
    const batchesBefore = fake.stats.batches
    const baseline = rssMb(gateway.pid)
    let peak = baseline
    // The peak while the file is read and checked (no batch sent yet), apart from the whole upload's.
    let readingPeak = baseline
    const sampler = setInterval(() => {
      const now = rssMb(gateway.pid) ?? 0
      peak = Math.max(peak, now)
      if (fake.stats.batches === batchesBefore) readingPeak = Math.max(readingPeak, now)
    }, 50)
    const started = performance.now()
    const answer = await upload(gateway.origin, apiKey, csv)
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    peak = Math.max(peak, rssMb(gateway.pid) ?? 0)
    if (answer.status !== 202) throw new Error(`upload answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 500)}`)
    const batches = fake.stats.batches - batchesBefore
    const leftovers = (await import('node:fs')).readdirSync(work).filter((name) => name.startsWith('fgw-stock-'))
    await stop(gateway.child)
    fake.server.close()

    const rowsPerSecond = ROWS / seconds
    const growth = peak - baseline
    const rows = [
      ['rows', String(ROWS), ''],
      ['seconds', seconds.toFixed(2), ''],
      ['rows/s', rowsPerSecond.toFixed(0), `>= ${TARGETS.rowsPerSecond}`],
      ['batches sent', String(batches), String(Math.ceil(ROWS / 5000))],
      ['entities in answer', String(answer.body.entities), String(ROWS)],
      ['RSS before MB', baseline.toFixed(1), ''],
      ['RSS peak, reading MB', readingPeak.toFixed(1), ''],
      ['RSS peak MB', peak.toFixed(1), ''],
      ['RSS growth MB', growth.toFixed(1), `< ${TARGETS.rssGrowthMb}`],
      ['spool files left', String(leftovers.length), '0']
    ]
    const width = Math.max(...rows.map((row) => row[0].length))
    console.log('\nPUT /stock, 1 CSV upload against a fake Job API')
    console.log(`${'measure'.padEnd(width)}  ${'value'.padStart(10)}  target`)
    for (const [name, value, target] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(10)}  ${target}`)
    const met = rowsPerSecond >= TARGETS.rowsPerSecond && growth < TARGETS.rssGrowthMb && batches === Math.ceil(ROWS / 5000) && leftovers.length === 0
    console.log(met ? 'targets met' : 'TARGETS MISSED')
    return met
  } finally {
    // Only its own children: run.js calls this after its scenarios, and the process exit handler kills any stray one.
    if (redis !== undefined) await stop(redis.child)
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const guard = setTimeout(() => { console.error('stock bench: still running after 5 minutes; giving up'); process.exit(1) }, WHOLE_BENCH_MS)
  guard.unref()
  await runStockLoad()
  process.exit(0)
}
