// Requests Node or Fastify refuse before any route runs (bad HTTP, huge headers, undecodable URLs): problem+json too.
import { randomUUID } from 'node:crypto'
import type { ServerOptions } from 'node:http'
import { createRequire } from 'node:module'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify'
import fp from 'fastify-plugin'
import { HeadersTooLargeError, isProblemCode, PROBLEMS, problemType, RequestTimeoutError, ValidationFailedError, type ProblemCode } from '../errors.js'
import { sendProblem, toProblem } from './errors.js'

// Through require: an ES import of node:http reads every export, and its lazy WebSocket ones load Node's bundled
// undici (770 KB of source, about 2 MB of heap) that the gateway never uses.
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof import('node:http')

/** The problem for a connection-level error from Node's HTTP parser (err.code HPE_*, ERR_HTTP_REQUEST_TIMEOUT). */
function connectionProblem (error: Error & { code?: string }): { status: number, code: ProblemCode, detail: string } {
  let refusal: FastifyError
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    refusal = new HeadersTooLargeError('the request line and headers are over 16 KB, or too many')
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_HEADERS_TIMEOUT') {
    refusal = new RequestTimeoutError('the request did not arrive in time')
  } else {
    // The parser's code (HPE_INVALID_HEADER_TOKEN, HPE_UNEXPECTED_CONTENT_LENGTH, ...) says what was wrong, and nothing else.
    const reason = /^HPE_[A-Z_]{1,40}$/.test(error.code ?? '') ? ` (${error.code ?? ''})` : ''
    refusal = new ValidationFailedError(`the request is not valid HTTP/1.1${reason}`)
  }
  return { status: refusal.statusCode ?? 400, code: isProblemCode(refusal.code) ? refusal.code : 'VALIDATION_FAILED', detail: refusal.message }
}

/**
 * Fastify's clientErrorHandler: Node's HTTP parser refused the bytes (431, NUL or bare CR in a header, bad chunking,
 * an unknown method, Content-Length with Transfer-Encoding). Answers problem+json with a fresh request id, then
 * closes the connection: after a parse error, and above all a smuggling attempt, nothing more is read from it.
 */
export function clientErrorHandler (this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const { status, code, detail } = connectionProblem(error)
  const requestId = randomUUID()
  this.log.debug({ reqId: requestId, code, parserCode: error.code }, 'client error')
  // A response already under way on this connection (a pipelined request) cannot be followed by another status line.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && inFlight?.headersSent !== true) {
    const body = JSON.stringify({
      type: problemType(code),
      title: PROBLEMS[code].title,
      status,
      detail,
      instance: `urn:uuid:${requestId}`,
      code,
      requestId
    })
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nConnection: close\r\n\r\n${body}`)
  }
  // end() closes once the answer is flushed; a peer that never reads must not hold the socket open.
  setTimeout(() => { socket.destroy() }, 1_000).unref()
}

/** Fastify's frameworkErrors: a URL that does not decode (FST_ERR_BAD_URL), an over-long parameter; no route or hook ran. */
export function frameworkErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  sendProblem(reply, toProblem(error, request))
}

/** For the Fastify constructor. Node's own Host check answers a bare 400; the plugin below answers it instead. */
export const clientErrorOptions = {
  clientErrorHandler,
  frameworkErrors: frameworkErrorHandler,
  http: { requireHostHeader: false }
} satisfies Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'> & { http: ServerOptions }

export default fp(async function clientErrorsPlugin (app) {
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      done(new ValidationFailedError('an HTTP/1.1 request needs a Host header'))
      return
    }
    done()
  })
}, { name: 'client-errors' })
