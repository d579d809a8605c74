// How the gateway logs: pino options with redaction, request ids, and Fastify's request lines replaced by the access log.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import pino from 'pino'
import type { Config } from './config/index.js'

/** Pino paths that can hold a secret; explicit paths (no wildcards) keep redaction cheap on the hot path. */
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.headers["idempotency-key"]',
  'headers.authorization', 'headers["x-api-key"]', 'headers["idempotency-key"]', 'password', 'clientSecret', 'client_secret',
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'apiKey'
]

/**
 * A tenant is logged by its id only: a whole tenant object (credentials, webhook keys, whatever is added later) comes
 * out as { id }. A serializer rather than redaction paths under `tenant`: those ran the redactor on the tenant id of
 * every access log line (about 700 bytes of garbage per request).
 */
function tenantForLog (value: unknown): unknown {
  return typeof value === 'object' && value !== null ? { id: (value as { id?: unknown }).id } : value
}

/** A caller's x-request-id is kept when it is short and plain; anything else gets a fresh UUID. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

function requestId (request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID()
}

/** plugins/access-log.ts writes one line per request instead of Fastify's two; Fastify's error-only lines stay. */
class AccessLogController extends LogController {
  override incomingRequest (): void {}
  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) super.requestCompleted(error, request, reply)
  }
}

/**
 * Log lines are collected up to this many bytes (well over a dozen access lines) before one write. pino's default
 * stdout stream starts a write for nearly every line at moderate traffic, each a hand-off to libuv's thread pool and
 * back (futex wake-ups, an eventfd); bench/README.md has what that cost.
 */
export const LOG_BUFFER_BYTES = 4096

/**
 * Whatever has collected is written at least this often, so a quiet gateway's lines still show promptly. A process
 * killed outright (SIGKILL, the OOM killer) loses at most this long's lines; any other exit writes them all.
 */
export const LOG_FLUSH_MS = 250

let stdoutStream: pino.DestinationStream | undefined

/**
 * stdout for the process's one logger, made once. Writes stay asynchronous (a slow log reader never blocks the event
 * loop), and pino writes out whatever is still buffered when the process exits, by signal, by an error or normally.
 */
function stdoutDestination (): pino.DestinationStream {
  stdoutStream ??= pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS })
  return stdoutStream
}

/** The Fastify options that decide logging and request ids; logs go to `stream` when given, else to stdout. */
export function loggingOptions (config: Config, stream?: NodeJS.WritableStream): Pick<FastifyServerOptions, 'logger' | 'genReqId' | 'requestIdHeader' | 'logController'> {
  return {
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { tenant: tenantForLog },
      stream: stream ?? stdoutDestination()
    },
    genReqId: requestId,
    requestIdHeader: false,
    logController: new AccessLogController()
  }
}
