// Malformed HTTP sent over raw sockets: every answer the process writes is problem+json with a request id, and the connection closes.
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { call, expectProblem } from '../helpers/call.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: any
  /** Everything the server wrote, as text. */
  raw: string
  /** The server closed the connection (within a second of its answer). */
  closed: boolean
}

/** Writes `bytes` to the gateway as they are and reads what comes back until the server closes or 3 s pass. */
async function sendRaw (gw: TestGateway, bytes: string | Buffer): Promise<RawAnswer> {
  const { port } = new URL(gw.url)
  return await new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    const chunks: Buffer[] = []
    let closed = false
    const done = (): void => {
      clearTimeout(timer)
      const raw = Buffer.concat(chunks).toString('latin1')
      const [head = '', ...rest] = raw.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]))
      let body: unknown
      try { body = JSON.parse(rest.join('\r\n\r\n')) } catch { body = undefined }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, raw, closed })
    }
    const timer = setTimeout(() => { socket.destroy(); done() }, 3_000)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', () => {})
    socket.on('close', () => { closed = true; done() })
    socket.on('connect', () => { socket.write(bytes) })
    socket.once('error', (error) => { if (chunks.length === 0 && !closed) reject(error) })
  })
}

function expectRawProblem (answer: RawAnswer, status: number, code: string): void {
  expect(answer.status, answer.raw.slice(0, 300)).toBe(status)
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(answer.body).toMatchObject({ type: expect.stringMatching(/^urn:fluent-rest-gateway:problem:/), title: expect.any(String), status, detail: expect.any(String), code })
  expect(answer.body.requestId).toEqual(expect.any(String))
  expect(answer.headers['x-request-id']).toBe(answer.body.requestId)
  expect(answer.headers.connection).toBe('close')
  expect(answer.closed).toBe(true)
}

describe('malformed requests', () => {
  let gw: TestGateway

  beforeAll(async () => { gw = await startGateway({ redisUrl: inject('redisUrl') }) })
  afterAll(async () => { await gw.close() })

  const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`

  it.each([
    ['headers over 16 KB', head(['GET /me HTTP/1.1', 'Host: gw', `X-Big: ${'a'.repeat(20_000)}`])],
    ['a 100 KB URL', head([`GET /customers?email=${'a'.repeat(100_000)} HTTP/1.1`, 'Host: gw'])],
    ['3,000 headers', head(['GET /me HTTP/1.1', 'Host: gw', ...Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v`)])]
  ])('answers %s with 431 HEADERS_TOO_LARGE', async (_what, bytes) => {
    expectRawProblem(await sendRaw(gw, bytes), 431, 'HEADERS_TOO_LARGE')
  })

  it.each([
    ['a NUL in a header', head(['GET /me HTTP/1.1', 'Host: gw', 'X-A: a\0b'])],
    ['a bare CR in a header', head(['GET /me HTTP/1.1', 'Host: gw', 'X-A: a\rb'])],
    ['a bare LF inside a header value', 'GET /me HTTP/1.1\r\nHost: gw\r\nX-A: a\nb: c\r\n\r\n'],
    ['bad chunking', `${head(['POST /customers HTTP/1.1', 'Host: gw', 'Content-Type: application/json', 'Transfer-Encoding: chunked'])}zz\r\n{}\r\n0\r\n\r\n`],
    ['an unknown method', head(['FROB /me HTTP/1.1', 'Host: gw'])],
    ['Content-Length and Transfer-Encoding together', `${head(['POST /customers HTTP/1.1', 'Host: gw', 'Content-Type: application/json', 'Content-Length: 6', 'Transfer-Encoding: chunked'])}0\r\n\r\nGET /me HTTP/1.1\r\nHost: gw\r\n\r\n`],
    ['two Content-Lengths that disagree', `${head(['POST /customers HTTP/1.1', 'Host: gw', 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 30'])}{}`],
    ['an obfuscated Transfer-Encoding', `${head(['POST /customers HTTP/1.1', 'Host: gw', 'Content-Type: application/json', 'Transfer-Encoding: chunked, identity'])}2\r\n{}\r\n0\r\n\r\n`],
    ['a request line that is not HTTP', 'hello\r\n\r\n']
  ])('answers %s with 400 VALIDATION_FAILED and closes the connection', async (_what, bytes) => {
    const answer = await sendRaw(gw, bytes)

    expectRawProblem(answer, 400, 'VALIDATION_FAILED')
    // One answer only: nothing smuggled behind the refused request was served.
    expect(answer.raw.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1)
  })

  it('answers a URL that does not decode with 400 VALIDATION_FAILED problem+json and a request id', async () => {
    const answer = await call(gw, '/customers/%C0%AE')

    expectProblem(answer, 400, 'VALIDATION_FAILED')
    expect(gw.sim.counters.graphqlRequests).toBe(0)
  })

  it('answers a request without a Host header with 400 problem+json', async () => {
    const answer = await sendRaw(gw, head(['GET /healthz HTTP/1.1', 'Connection: close']))

    expect(answer.status).toBe(400)
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(answer.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', requestId: answer.headers['x-request-id'] })
  })
})
