// The transport over real HTTP: one answer's status, headers and whole text, however it arrives, and the deadline signal
// that stops it before it is sent or while its body is still coming.
import { getEventListeners } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTransport, type Transport } from '../../src/fluent/transport.js'

describe('transport', () => {
  let server: Server
  let base: string
  let transport: Transport
  const seen: string[] = []
  /** Answers that never end, so a test can abort them mid-body. */
  const hanging = new Set<ServerResponse>()

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response: ServerResponse) => {
      seen.push(`${request.method ?? ''} ${request.url ?? ''}`)
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const sent = Buffer.concat(chunks)
        switch (new URL(request.url ?? '/', 'http://fluent').pathname) {
          case '/split': {
            // "é" and "€" cut between writes: the text is decoded from the whole body, not chunk by chunk.
            const bytes = Buffer.from('{"name":"café","price":"12 €"}')
            response.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7' })
            const cut = bytes.indexOf(0xc3) + 1
            response.write(bytes.subarray(0, cut))
            setTimeout(() => {
              response.write(bytes.subarray(cut, bytes.length - 2))
              setTimeout(() => response.end(bytes.subarray(bytes.length - 2)), 5)
            }, 5)
            return
          }
          case '/bom':
            response.end(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ok":true}')]))
            return
          case '/empty':
            response.writeHead(204).end()
            return
          case '/continue':
            response.writeProcessing()
            response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
            response.writeHead(202, { 'x-final': 'yes' }).end('accepted')
            return
          case '/echo':
            response.writeHead(201, { 'content-type': 'text/plain' }).end(`${request.headers['x-test'] ?? ''}:${sent.toString()}`)
            return
          case '/hang':
            response.writeHead(200, { 'content-type': 'application/json' })
            response.write('{"partial":')
            hanging.add(response)
            return
          default:
            response.writeHead(404).end('no')
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    transport = createTransport({ timeoutMs: 5_000 })
  })

  afterAll(async () => {
    for (const response of hanging) response.destroy()
    await transport.close()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  })

  it('answers the status, headers and whole text of a body that arrives in pieces, cut inside characters', async () => {
    const signal = new AbortController().signal
    const answer = await transport.request('GET', `${base}/split`, {}, undefined, signal)
    expect(answer).toEqual({ status: 200, headers: expect.objectContaining({ 'retry-after': '7' }) as unknown, text: '{"name":"café","price":"12 €"}' })
    // Nothing of the call stays on the caller's signal (it outlives the call: retries reuse it).
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
  })

  it('sends the method, path, headers and body, and answers a non-2xx status as an answer, not an error', async () => {
    expect(await transport.request('POST', `${base}/echo?x=1`, { 'x-test': 'hi' }, 'the body', new AbortController().signal))
      .toMatchObject({ status: 201, text: 'hi:the body' })
    expect(seen).toContain('POST /echo?x=1')
    expect(await transport.request('GET', `${base}/nowhere`, {}, undefined, new AbortController().signal)).toMatchObject({ status: 404, text: 'no' })
  })

  it('answers an empty text for a body-less answer, and drops a UTF-8 byte order mark', async () => {
    expect(await transport.request('GET', `${base}/empty`, {}, undefined, new AbortController().signal)).toMatchObject({ status: 204, text: '' })
    expect((await transport.request('GET', `${base}/bom`, {}, undefined, new AbortController().signal)).text).toBe('{"ok":true}')
  })

  it('skips 1xx interim answers and answers the final one', async () => {
    const answer = await transport.request('POST', `${base}/continue`, {}, 'x', new AbortController().signal)
    expect(answer).toMatchObject({ status: 202, text: 'accepted', headers: { 'x-final': 'yes' } })
  })

  it('sends nothing when the signal has already fired, and rejects with its reason', async () => {
    const before = seen.length
    const controller = new AbortController()
    const reason = new DOMException('deadline passed', 'TimeoutError')
    controller.abort(reason)
    await expect(transport.request('GET', `${base}/echo`, {}, undefined, controller.signal)).rejects.toBe(reason)
    // The same origin still serves, and the aborted call never reached it.
    await transport.request('GET', `${base}/empty`, {}, undefined, new AbortController().signal)
    expect(seen.slice(before)).toEqual(['GET /empty'])
  })

  it('rejects with the signal\'s reason when it fires while the body is still coming, and lets go of the signal', async () => {
    const controller = new AbortController()
    const reason = new DOMException('deadline passed', 'TimeoutError')
    const pending = transport.request('GET', `${base}/hang`, {}, undefined, controller.signal)
    await expect.poll(() => hanging.size).toBe(1)
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
  })

  it('rejects with the connection error when nothing listens', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => { resolve() }))
    await expect(transport.request('GET', `http://127.0.0.1:${port}/`, {}, undefined, new AbortController().signal))
      .rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})
