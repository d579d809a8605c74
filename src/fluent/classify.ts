// Turns every Fluent answer into data or a typed error, per the error table of DESIGN §4.
import {
  ConflictError, ForbiddenError, NotFoundError, PayloadTooLargeError, RateLimitedError, UpstreamAuthFailedError,
  UpstreamRejectedError, UpstreamTimeoutError, UpstreamUnavailableError, withExtras, type UpstreamDetail
} from '../errors.js'
import type { HttpAnswer } from './transport.js'

export interface GraphqlError {
  message?: string
  code?: string
  extensions?: { code?: unknown }
}

export interface GraphqlBody {
  data?: Record<string, unknown> | null
  errors?: GraphqlError[]
}

/** Fluent codes look like C0120E and sit in extensions.code, in a top-level code, or inside the message. */
const FLUENT_CODE = /\bC\d{4}E?\b/g

/** The entries of an `errors` value that are objects; a body from a broken proxy may hold anything there. */
function errorEntries (errors: unknown): GraphqlError[] {
  return Array.isArray(errors) ? errors.filter((error): error is GraphqlError => error !== null && typeof error === 'object') : []
}

/** Longest Fluent message a caller sees. */
export const MAX_UPSTREAM_MESSAGE = 200

/** `at com.foo.Bar.baz(Bar.java:12)`, `at java.base/java.lang.Thread.run(Native Method)`. */
const STACK_FRAME = /\s*\bat\s+[\w$.<>/-]+\([^)]*\)/g
/** A fully qualified Java class (two package segments at least): `java.lang.IllegalStateException:`, `com.fluentcommerce.x.YException`. */
const JAVA_CLASS = /\b(?:[a-z_$][\w$]*\.){2,}[A-Z][\w$]*:?/g
const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi
const HOST_PORT = /\b(?:localhost|(?:[a-z0-9-]+\.)+[a-z0-9-]+):\d{1,5}\b/gi
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g
const INTERNAL_HOST = /\b(?:[a-z0-9-]+\.)+(?:internal|local|localdomain|lan|corp|intra|intranet|private|svc|home\.arpa)\b/gi

/**
 * What a caller may see of one Fluent message: its first line, without stack frames or Java class names, with URLs,
 * host:port pairs, IP addresses and internal host names replaced, at most MAX_UPSTREAM_MESSAGE characters. Fluent's
 * codes are read from the whole message before this.
 */
export function publicMessage (message: string): string {
  const text = (message.split(/\r\n|\r|\n/, 1)[0] ?? '')
    .replace(STACK_FRAME, '')
    .replace(JAVA_CLASS, '')
    .replace(URL_TEXT, '[redacted]')
    .replace(HOST_PORT, '[redacted]')
    .replace(IPV4, '[redacted]')
    .replace(INTERNAL_HOST, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim()
  return text.length > MAX_UPSTREAM_MESSAGE ? `${text.slice(0, MAX_UPSTREAM_MESSAGE - 1)}…` : text
}

function rawMessage (error: GraphqlError): string {
  return typeof error.message === 'string' ? error.message : ''
}

function messageOf (error: GraphqlError): string {
  return publicMessage(rawMessage(error))
}

/** A code a caller may see: short and plain (C0120E, BAD_USER_INPUT), never a class name or a sentence. */
const PLAIN_CODE = /^[\w-]{1,64}$/

export function upstreamDetail (status: number, errors: unknown = []): UpstreamDetail {
  const entries = errorEntries(errors)
  const codes = new Set<string>()
  for (const error of entries) {
    const extensions = error.extensions !== null && typeof error.extensions === 'object' ? error.extensions : undefined
    for (const candidate of [extensions?.code, error.code]) {
      if (typeof candidate === 'string' && PLAIN_CODE.test(candidate)) codes.add(candidate)
    }
    for (const match of rawMessage(error).matchAll(FLUENT_CODE)) codes.add(match[0])
  }
  return { status, codes: [...codes], messages: entries.map(messageOf).filter((message) => message !== '') }
}

/** Seconds from a Retry-After header (seconds or HTTP date); undefined when absent or unreadable. */
export function retryAfterSeconds (headers: HttpAnswer['headers']): number | undefined {
  const raw = headers['retry-after']
  const value = Array.isArray(raw) ? raw[0] : raw
  if (value === undefined || value === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

/** A call that threw: past the deadline it is a timeout, otherwise Fluent could not be reached. */
export function callFailure (error: unknown, signal: AbortSignal, what: string): Error {
  // Already one of ours (an open circuit's fast 502): pass it on as it is.
  if (error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number') return error
  if (signal.aborted) return new UpstreamTimeoutError(`Fluent did not answer the ${what} in time`, { cause: error })
  return new UpstreamUnavailableError(`Fluent could not be reached for the ${what}`, { cause: error })
}

export function parseBody (answer: HttpAnswer): GraphqlBody | undefined {
  try {
    const body = JSON.parse(answer.text) as unknown
    return body !== null && typeof body === 'object' && !Array.isArray(body) ? body as GraphqlBody : undefined
  } catch {
    return undefined
  }
}

/**
 * What a caller may see of a Fluent failure on Fluent's side (5xx): its status and Fluent-shaped codes only.
 * The messages of a 5xx are Fluent's (or a proxy's) internals, stack traces and host names included, so they stay out.
 */
function serverSideDetail (detail: UpstreamDetail): UpstreamDetail {
  return { status: detail.status, codes: detail.codes.filter((code) => /^C\d{4}E?$/.test(code)), messages: [] }
}

/** The error for an answer that is not a usable 200 (after the 401 retry has been spent). */
export function httpFailure (answer: HttpAnswer, body: GraphqlBody | undefined): Error {
  const status = answer.status
  // A 5xx's text can hold stack traces and host names, a 401's can quote the refused token: keep only their codes.
  const detail = status >= 500 || status === 401 ? serverSideDetail(upstreamDetail(status, body?.errors)) : upstreamDetail(status, body?.errors)
  if (status === 401) return withExtras(new UpstreamAuthFailedError('Fluent refused the access token twice'), { upstream: detail })
  if (status === 429) {
    return withExtras(new RateLimitedError('Fluent is rate limiting this account'), { upstream: detail, retryAfterSeconds: retryAfterSeconds(answer.headers) ?? 1 })
  }
  if (status === 413) return withExtras(new PayloadTooLargeError('Fluent refused the request as too large'), { upstream: detail })
  if (status === 403) return withExtras(new ForbiddenError('Fluent says the tenant\'s account lacks the permission for this'), { upstream: detail })
  if (status >= 400 && status < 500) return withExtras(new UpstreamRejectedError(`Fluent rejected the request (HTTP ${status})`), { upstream: detail })
  if (status >= 500) return withExtras(new UpstreamUnavailableError(`Fluent failed (HTTP ${status})`), { upstream: detail })
  return withExtras(new UpstreamUnavailableError(`Fluent answered HTTP ${status} with a body that is not GraphQL JSON`), { upstream: detail })
}

function numericCode (code: string): number {
  return Number(code.slice(1, 5))
}

/** The error for GraphQL errors in a 200 answer: Fluent's codes decide the status. */
export function graphqlFailure (status: number, errors: unknown): Error {
  const detail = upstreamDetail(status, errors)
  if (errorEntries(errors).length === 0) {
    // `errors` set but holding no error objects is not GraphQL: a broken proxy or server, not a refusal of the input.
    return withExtras(new UpstreamUnavailableError('Fluent answered with an errors value that is not GraphQL errors'), { upstream: detail })
  }
  const codes = detail.codes.filter((code) => /^C\d{4}E?$/.test(code)).map(numericCode)
  const text = detail.messages.join(' ').toLowerCase()
  if (codes.includes(120)) return withExtras(new NotFoundError('Fluent found no such entity'), { upstream: detail })
  if (codes.includes(121) || codes.includes(123) || text.includes('already exists')) {
    return withExtras(new ConflictError('Fluent says this entity already exists'), { upstream: detail })
  }
  if (codes.includes(11)) return withExtras(new RateLimitedError('Fluent is rate limiting this account'), { upstream: detail, retryAfterSeconds: 1 })
  if (codes.includes(20)) return withExtras(new ForbiddenError('Fluent says the tenant\'s account lacks the permission for this'), { upstream: detail })
  return withExtras(new UpstreamRejectedError(detail.messages[0] ?? 'Fluent rejected the request'), { upstream: detail })
}
