// How the gateway logs: pino options with redaction, request ids, and Fastify's request lines replaced by the access log.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
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

/** The Fastify options that decide logging and request ids. */
export function loggingOptions (config: Config, stream?: NodeJS.WritableStream): Pick<FastifyServerOptions, 'logger' | 'genReqId' | 'requestIdHeader' | 'logController'> {
  return {
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { tenant: tenantForLog },
      ...(stream === undefined ? {} : { stream })
    },
    genReqId: requestId,
    requestIdHeader: false,
    logController: new AccessLogController()
  }
}
