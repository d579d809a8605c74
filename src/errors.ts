// The problem catalogue: one row per error code (status, title, when it happens, an example). The error constructors,
// the renderer's titles (plugins/errors.ts), the OpenAPI problem responses (schemas/problem.ts) and the README's error
// table (checked by test/docs/readme.test.ts) all come from it: a new code is one row, plus a constructor if code throws it.
import createError from '@fastify/error'

/** What Fluent said, kept on upstream errors so callers can see Fluent's own codes and messages. */
export interface UpstreamDetail {
  status: number
  codes: string[]
  messages: string[]
}

export interface ValidationIssue {
  path: string
  message: string
}

interface ProblemRow {
  status: number
  title: string
  /** When a caller meets it: the README's "when" column and, with the code, the OpenAPI response description. */
  when: string
  /** The detail of the example body shown in /docs, and any extra fields it carries. */
  example: { detail: string, errors?: ValidationIssue[], upstream?: UpstreamDetail }
  /** The code an error carrying only this HTTP status (from a Fastify plugin) is answered with. */
  forStatus?: true
}

export const PROBLEMS = {
  VALIDATION_FAILED: {
    status: 400,
    title: 'Request validation failed',
    when: 'the body, query or path fails the schema, malformed JSON, JSON nested deeper than 32 levels (`errors[]` says where), a URL that does not decode, no `Host`; malformed HTTP (a NUL or bare CR/LF in a header, bad chunking, an unknown method, `Content-Length` with `Transfer-Encoding`), after which the connection is closed; nothing reaches Fluent',
    example: { detail: "/body must have required property 'email'", errors: [{ path: '/body/email', message: "must have required property 'email'" }] },
    forStatus: true
  },
  IDEMPOTENCY_KEY_REQUIRED: {
    status: 400,
    title: 'Idempotency-Key required',
    when: 'a route that cannot be retried safely without one (`POST /stock/adjustments`) was called without an `Idempotency-Key`',
    example: { detail: 'POST /stock/adjustments needs an Idempotency-Key header: a delta sent twice would count twice' }
  },
  UNAUTHENTICATED: {
    status: 401,
    title: 'Authentication required',
    when: 'no or unknown API key',
    example: { detail: 'The API key is not known' },
    forStatus: true
  },
  SIGNATURE_INVALID: {
    status: 401,
    title: 'Webhook signature invalid',
    when: "a webhook to `POST /webhooks/fluent/{tenant}` without a valid `fluent-signature` for the tenant's key (or the tenant has none); nothing is stored",
    example: { detail: 'the fluent-signature header does not verify against the tenant\'s webhook key' }
  },
  FORBIDDEN: {
    status: 403,
    title: 'Not allowed',
    when: 'a mutation through `/graphql`, or `POST /events`, for a tenant with `allowMutations: false`; Fluent permission errors',
    example: { detail: 'this tenant may not run mutations through /graphql' },
    forStatus: true
  },
  NOT_FOUND: {
    status: 404,
    title: 'Not found',
    when: 'unknown route, or Fluent has no such entity (null, C0120E)',
    example: { detail: 'customer 1001 does not exist' },
    forStatus: true
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed',
    when: 'a known path asked with a method it lacks (`HEAD`, `OPTIONS` included); `Allow` lists the methods it has',
    example: { detail: 'PUT is not allowed on /customers; Allow: GET, POST' }
  },
  REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request not received in time',
    when: "the request did not arrive within Node's request or headers timeout; the connection is closed",
    example: { detail: 'the request did not arrive in time' }
  },
  CONFLICT: {
    status: 409,
    title: 'Already exists',
    when: 'Fluent says it already exists (C0121, C0123)',
    example: { detail: 'Fluent says this entity already exists', upstream: { status: 200, codes: ['C0123E'], messages: ['Unique constraint violation'] } }
  },
  IDEMPOTENCY_IN_FLIGHT: {
    status: 409,
    title: 'A request with this Idempotency-Key is in flight',
    when: 'the first request with this `Idempotency-Key` has not been answered yet; see `Retry-After`',
    example: { detail: 'a request with this Idempotency-Key is still being processed; retry after the time in Retry-After' }
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: 'Request body too large',
    when: 'body over `BODY_LIMIT_BYTES` (`PUT /stock`: `STOCK_UPLOAD_LIMIT_BYTES`, counted as it arrives), or a `/graphql` document over 100 KB',
    example: { detail: 'Request body is too large' },
    forStatus: true
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported media type',
    when: 'a body that is not `application/json` (`PUT /stock`: or `text/csv`), or JSON in a charset other than UTF-8',
    example: { detail: 'Unsupported Media Type: text/plain' },
    forStatus: true
  },
  UPSTREAM_REJECTED: {
    status: 422,
    title: 'Fluent rejected the request',
    when: 'Fluent rejected the input (C0100E–C0159E, other client errors)',
    example: { detail: 'Retailer 99 not found', upstream: { status: 200, codes: ['C0100E'], messages: ['Retailer 99 not found'] } }
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'Idempotency-Key reused with another body',
    when: 'this `Idempotency-Key` was used before with a different body',
    example: { detail: 'this Idempotency-Key was first used with another body; use a new key for a new request' }
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    when: "the gateway's or Fluent's rate limit; see `Retry-After`",
    example: { detail: 'Fluent is rate limiting this account' },
    forStatus: true
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request headers too large',
    when: 'request line and headers over 16 KB (a huge URL, too many headers); the connection is closed',
    example: { detail: 'the request line and headers are over 16 KB' }
  },
  UPSTREAM_AUTH_FAILED: {
    status: 502,
    title: "Fluent refused the tenant's credentials",
    when: "Fluent refused the tenant's credentials",
    example: { detail: "Fluent refused the credentials of tenant 'acme'", upstream: { status: 400, codes: ['invalid_grant'], messages: [] } }
  },
  UPSTREAM_UNAVAILABLE: {
    status: 502,
    title: 'Fluent is unavailable',
    when: 'Fluent unreachable, 5xx, a body that is not GraphQL JSON, or an answer lacking a field the endpoint answers with (`detail` names it); a `PUT /stock` that failed after its job was created (`stockLoad` lists what Fluent accepted)',
    example: { detail: 'Fluent failed (HTTP 503)', upstream: { status: 503, codes: [], messages: [] } }
  },
  UPSTREAM_SCHEMA_DRIFT: {
    status: 502,
    title: "The route's document no longer fits Fluent's schema",
    when: "the tenant's live Fluent schema no longer accepts this route's GraphQL document; nothing was sent",
    example: { detail: "Fluent's schema for this tenant no longer has a field this route asks for: Cannot query field \"totalPrice\" on type \"Order\"" }
  },
  UNAVAILABLE: {
    status: 503,
    title: 'Service unavailable',
    when: 'draining or overloaded; see `Retry-After`',
    example: { detail: 'The gateway is overloaded; retry shortly' },
    forStatus: true
  },
  UPSTREAM_TIMEOUT: {
    status: 504,
    title: 'Fluent did not answer in time',
    when: 'Fluent did not answer within `FLUENT_TIMEOUT_MS`',
    example: { detail: 'Fluent did not answer in time' }
  },
  INTERNAL: {
    status: 500,
    title: 'Internal error',
    when: 'a fault in the gateway itself; the body says only to quote the `requestId`, the log has the rest',
    example: { detail: 'The gateway failed to handle this request; the request id finds it in the logs.' }
  }
} as const satisfies Record<string, ProblemRow>

export type ProblemCode = keyof typeof PROBLEMS

export function isProblemCode (code: string | undefined): code is ProblemCode {
  return code !== undefined && Object.hasOwn(PROBLEMS, code)
}

/** The problem's `type` URI. */
export function problemType (code: ProblemCode): string {
  return `urn:fluent-rest-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`
}

/** Every constructor takes the detail message and, for wrapped failures, `{ cause }`. */
type ErrorArgs = [detail: string, options?: { cause?: unknown }]

function problemError (code: ProblemCode) {
  return createError<ErrorArgs>(code, '%s', PROBLEMS[code].status)
}

export const ValidationFailedError = problemError('VALIDATION_FAILED')
export const UnauthenticatedError = problemError('UNAUTHENTICATED')
export const SignatureInvalidError = problemError('SIGNATURE_INVALID')
export const ForbiddenError = problemError('FORBIDDEN')
export const NotFoundError = problemError('NOT_FOUND')
export const MethodNotAllowedError = problemError('METHOD_NOT_ALLOWED')
export const RequestTimeoutError = problemError('REQUEST_TIMEOUT')
export const ConflictError = problemError('CONFLICT')
export const PayloadTooLargeError = problemError('PAYLOAD_TOO_LARGE')
export const UnsupportedMediaTypeError = problemError('UNSUPPORTED_MEDIA_TYPE')
export const HeadersTooLargeError = problemError('HEADERS_TOO_LARGE')
export const UpstreamRejectedError = problemError('UPSTREAM_REJECTED')
export const IdempotencyKeyRequiredError = problemError('IDEMPOTENCY_KEY_REQUIRED')
export const IdempotencyInFlightError = problemError('IDEMPOTENCY_IN_FLIGHT')
export const IdempotencyKeyReusedError = problemError('IDEMPOTENCY_KEY_REUSED')
export const UpstreamSchemaDriftError = problemError('UPSTREAM_SCHEMA_DRIFT')
export const RateLimitedError = problemError('RATE_LIMITED')
export const UpstreamAuthFailedError = problemError('UPSTREAM_AUTH_FAILED')
export const UpstreamUnavailableError = problemError('UPSTREAM_UNAVAILABLE')
export const UnavailableError = problemError('UNAVAILABLE')
export const UpstreamTimeoutError = problemError('UPSTREAM_TIMEOUT')

/** What a stock load that failed half-way had already sent: its Fluent job and the batches Fluent accepted. */
export interface StockLoadProgress {
  jobId: string
  entities: number
  batches: Array<{ id: string, entities: number, status: string }>
}

/** Extra fields an error may carry into its problem body and headers. */
export interface ProblemExtras {
  upstream?: UpstreamDetail
  retryAfterSeconds?: number
  errors?: ValidationIssue[]
  stockLoad?: StockLoadProgress
}

/** Attaches problem extras (upstream detail, Retry-After, validation issues) to an error. */
export function withExtras<E extends Error> (error: E, extras: ProblemExtras): E & ProblemExtras {
  return Object.assign(error, extras)
}
