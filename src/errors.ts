// Every error the gateway answers with: one constructor per problem code, rendered as problem+json by plugins/errors.ts.
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

/** Every constructor takes the detail message and, for wrapped failures, `{ cause }`. */
type ErrorArgs = [detail: string, options?: { cause?: unknown }]

export const ValidationFailedError = createError<ErrorArgs>('VALIDATION_FAILED', '%s', 400)
export const UnauthenticatedError = createError<ErrorArgs>('UNAUTHENTICATED', '%s', 401)
export const SignatureInvalidError = createError<ErrorArgs>('SIGNATURE_INVALID', '%s', 401)
export const ForbiddenError = createError<ErrorArgs>('FORBIDDEN', '%s', 403)
export const NotFoundError = createError<ErrorArgs>('NOT_FOUND', '%s', 404)
export const ConflictError = createError<ErrorArgs>('CONFLICT', '%s', 409)
export const PayloadTooLargeError = createError<ErrorArgs>('PAYLOAD_TOO_LARGE', '%s', 413)
export const UpstreamRejectedError = createError<ErrorArgs>('UPSTREAM_REJECTED', '%s', 422)
export const RateLimitedError = createError<ErrorArgs>('RATE_LIMITED', '%s', 429)
export const UpstreamAuthFailedError = createError<ErrorArgs>('UPSTREAM_AUTH_FAILED', '%s', 502)
export const UpstreamUnavailableError = createError<ErrorArgs>('UPSTREAM_UNAVAILABLE', '%s', 502)
export const UnavailableError = createError<ErrorArgs>('UNAVAILABLE', '%s', 503)
export const UpstreamTimeoutError = createError<ErrorArgs>('UPSTREAM_TIMEOUT', '%s', 504)

/** Extra fields an error may carry into its problem body and headers. */
export interface ProblemExtras {
  upstream?: UpstreamDetail
  retryAfterSeconds?: number
  errors?: ValidationIssue[]
}

/** Attaches problem extras (upstream detail, Retry-After, validation issues) to an error. */
export function withExtras<E extends Error> (error: E, extras: ProblemExtras): E & ProblemExtras {
  return Object.assign(error, extras)
}
