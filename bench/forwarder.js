// The second floor: plain node:http + one undici Pool, forwarding every request to the fake Fluent. No framework, no logger.
import { createServer } from 'node:http'
import { Pool } from 'undici'

const upstream = process.env.UPSTREAM
if (upstream === undefined) throw new Error('UPSTREAM is required (the fake Fluent origin)')

const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 })
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host'])

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const headers = {}
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value
    pool.request({ method: req.method, path: req.url, headers, body: chunks.length === 0 ? undefined : Buffer.concat(chunks) })
      .then(async ({ statusCode, headers: answerHeaders, body }) => {
        const out = {}
        for (const [name, value] of Object.entries(answerHeaders)) if (!HOP_BY_HOP.has(name)) out[name] = value
        const buffer = Buffer.from(await body.arrayBuffer())
        res.writeHead(statusCode, out)
        res.end(buffer)
      })
      .catch(() => { res.writeHead(502).end() })
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'listening', port: server.address().port })
})
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => { server.close(); pool.close().finally(() => process.exit(0)) })
