// Tests of how Fluent's answers become typed errors: codes found in extensions, code or message, statuses by the problem table.
import { describe, expect, it } from 'vitest'
import {
  callFailure, graphqlFailure, httpFailure, parseBody, retryAfterSeconds, upstreamDetail
} from '../../src/fluent/classify.js'
import type { ProblemExtras } from '../../src/errors.js'
import type { HttpAnswer } from '../../src/fluent/transport.js'

type Classified = Error & ProblemExtras & { code?: string, statusCode?: number }

function answer (status: number, text: string, headers: HttpAnswer['headers'] = {}): HttpAnswer {
  return { status, text, headers }
}

function http (status: number, body: unknown = { errors: [{ message: `HTTP ${status}` }] }, headers: HttpAnswer['headers'] = {}): Classified {
  const raw = answer(status, typeof body === 'string' ? body : JSON.stringify(body), headers)
  return httpFailure(raw, parseBody(raw)) as Classified
}

describe('upstreamDetail', () => {
  it('collects Fluent codes from extensions.code, a top-level code and inside messages, once each', () => {
    const detail = upstreamDetail(200, [
      { message: 'C0123E Unique constraint violation', extensions: { code: 'C0123E' } },
      { message: 'bad input (C0101E) and C0102', code: 'X1' },
      { message: 'no code here' }
    ])

    expect(detail).toEqual({
      status: 200,
      codes: ['C0123E', 'X1', 'C0101E', 'C0102'],
      messages: ['C0123E Unique constraint violation', 'bad input (C0101E) and C0102', 'no code here']
    })
  })

  it.each([
    ['a stack trace after the first line', 'C0100E Retailer 99 not found\n\tat com.fluentcommerce.api.RetailerService.get(RetailerService.java:88)\n\tat java.base/java.lang.Thread.run(Thread.java:833)',
      'C0100E Retailer 99 not found'],
    ['a Java exception class and a stack frame on the first line', 'java.lang.IllegalStateException: C0101E bad state at com.foo.Bar.baz(Bar.java:12)',
      'C0101E bad state'],
    ['a Fluent exception class', 'com.fluentcommerce.graphql.ValidationException: C0105E firstName too long', 'C0105E firstName too long'],
    ['an internal host and port', 'C0110E lookup failed on db-7.prod.fluent.internal:5432 (10.0.3.17)', 'C0110E lookup failed on [redacted] ([redacted])'],
    ['a URL and an internal host name', 'C0111E calling http://inventory.svc.cluster.local:8080/api/v1 from api-3.fluent.local failed',
      'C0111E calling [redacted] from [redacted] failed'],
    ['localhost', 'upstream localhost:9200 timed out', 'upstream [redacted] timed out']
  ])('keeps the code and first line of a message but drops %s', (_what, message, kept) => {
    const detail = upstreamDetail(200, [{ message }])

    expect(detail.messages).toEqual([kept])
    expect(detail.codes).toEqual(/C\d{4}E/.test(message) ? [/C\d{4}E/.exec(message)?.[0]] : [])
  })

  it('caps a message at 200 characters and keeps ordinary text, emails and refs as they are', () => {
    const [long] = upstreamDetail(200, [{ message: `C0105E ${'x'.repeat(500)}` }]).messages
    expect(long).toHaveLength(200)
    expect(long?.endsWith('…')).toBe(true)
    const plain = 'C0123E Customer sam.lee@example.com already exists in retailer 1, catalogue PC:MASTER:1 (Cannot query field "x" on type "Query".)'
    expect(upstreamDetail(200, [{ message: plain }]).messages).toEqual([plain])
  })

  it('keeps only short plain codes, never a class name or text posing as one', () => {
    expect(upstreamDetail(200, [{ message: 'x', extensions: { code: 'java.lang.NullPointerException' } }, { message: 'y', code: 'BAD_USER_INPUT' }]).codes)
      .toEqual(['BAD_USER_INPUT'])
  })

  it('ignores what is not a GraphQL error instead of throwing', () => {
    expect(upstreamDetail(200, 'oops')).toEqual({ status: 200, codes: [], messages: [] })
    expect(upstreamDetail(200, [null, 5, { message: 42, extensions: 'x' }, { message: 'ok' }])).toEqual({ status: 200, codes: [], messages: ['ok'] })
    expect(upstreamDetail(500)).toEqual({ status: 500, codes: [], messages: [] })
  })
})

describe('retryAfterSeconds', () => {
  it('reads seconds, rounding up', () => {
    expect(retryAfterSeconds({ 'retry-after': '7' })).toBe(7)
    expect(retryAfterSeconds({ 'retry-after': '0.2' })).toBe(1)
    expect(retryAfterSeconds({ 'retry-after': ['3', '9'] })).toBe(3)
  })

  it('reads an HTTP date as the seconds until then', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString()
    const seconds = retryAfterSeconds({ 'retry-after': inTenSeconds })

    expect(seconds).toBeGreaterThanOrEqual(9)
    expect(seconds).toBeLessThanOrEqual(11)
    expect(retryAfterSeconds({ 'retry-after': new Date(Date.now() - 60_000).toUTCString() })).toBe(0)
  })

  it('answers undefined when absent or unreadable', () => {
    expect(retryAfterSeconds({})).toBeUndefined()
    expect(retryAfterSeconds({ 'retry-after': '' })).toBeUndefined()
    expect(retryAfterSeconds({ 'retry-after': 'soon' })).toBeUndefined()
  })
})

describe('parseBody', () => {
  it('answers a JSON object and nothing else', () => {
    expect(parseBody(answer(200, '{"data":{"me":null}}'))).toEqual({ data: { me: null } })
    expect(parseBody(answer(200, '[{"data":{}}]'))).toBeUndefined()
    expect(parseBody(answer(200, 'null'))).toBeUndefined()
    expect(parseBody(answer(200, '"text"'))).toBeUndefined()
    expect(parseBody(answer(200, '<html>'))).toBeUndefined()
    expect(parseBody(answer(200, ''))).toBeUndefined()
  })
})

describe('callFailure', () => {
  it('is a timeout once the deadline signal fired, and unavailable before', () => {
    const cause = new Error('socket hang up')
    const fired = AbortSignal.abort()
    const live = new AbortController().signal

    expect(callFailure(cause, fired, 'GraphQL request')).toMatchObject({ code: 'UPSTREAM_TIMEOUT', statusCode: 504, cause })
    expect(callFailure(cause, live, 'token request')).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502, cause })
  })
})

describe('httpFailure', () => {
  it.each([
    [401, 'UPSTREAM_AUTH_FAILED', 502],
    [403, 'FORBIDDEN', 403],
    [413, 'PAYLOAD_TOO_LARGE', 413],
    [400, 'UPSTREAM_REJECTED', 422],
    [404, 'UPSTREAM_REJECTED', 422],
    [500, 'UPSTREAM_UNAVAILABLE', 502],
    [503, 'UPSTREAM_UNAVAILABLE', 502],
    [302, 'UPSTREAM_UNAVAILABLE', 502],
    [200, 'UPSTREAM_UNAVAILABLE', 502]
  ])('maps HTTP %i to %s (%i)', (status, code, statusCode) => {
    const error = http(status, status === 200 ? 'not json' : undefined)

    expect(error).toMatchObject({ code, statusCode, upstream: { status } })
  })

  it('maps 429 to RATE_LIMITED with Fluent\'s Retry-After, or 1 second without one', () => {
    expect(http(429, undefined, { 'retry-after': '12' })).toMatchObject({ code: 'RATE_LIMITED', statusCode: 429, retryAfterSeconds: 12 })
    expect(http(429)).toMatchObject({ retryAfterSeconds: 1 })
  })

  it('keeps Fluent\'s messages for client errors', () => {
    expect(http(400, { errors: [{ message: 'C0105E bad thing' }] }).upstream).toEqual({ status: 400, codes: ['C0105E'], messages: ['C0105E bad thing'] })
  })

  it('keeps a 5xx\'s Fluent codes but none of its messages, which may hold stack traces and host names', () => {
    const error = http(500, { errors: [{ message: 'C0001E NullPointerException at com.fluent.X(X.java:1) db-7.internal:5432', extensions: { code: 'INTERNAL' } }] })

    expect(error.upstream).toEqual({ status: 500, codes: ['C0001E'], messages: [] })
    expect(error.message).not.toContain('NullPointerException')
  })
})

describe('graphqlFailure', () => {
  const fail = (errors: unknown): Classified => graphqlFailure(200, errors) as Classified

  it.each([
    ['C0120E in extensions', [{ message: 'Retailer not found', extensions: { code: 'C0120E' } }], 'NOT_FOUND', 404],
    ['C0120E in the message', [{ message: 'C0120E Retailer not found' }], 'NOT_FOUND', 404],
    ['C0121E', [{ message: 'C0121E Unique constraint violation' }], 'CONFLICT', 409],
    ['C0123 without E', [{ message: 'dup', code: 'C0123' }], 'CONFLICT', 409],
    ['"already exists" without a code', [{ message: 'A product with this ref Already Exists' }], 'CONFLICT', 409],
    ['C0011 rate limited', [{ message: 'C0011 Too many requests' }], 'RATE_LIMITED', 429],
    ['C0020E missing permission', [{ message: 'C0020E Permission denied' }], 'FORBIDDEN', 403],
    ['C0100E invalid input', [{ message: 'C0100E Invalid cursor' }], 'UPSTREAM_REJECTED', 422],
    ['C0159E invalid input', [{ message: 'x', extensions: { code: 'C0159E' } }], 'UPSTREAM_REJECTED', 422],
    ['C0001E query too complex', [{ message: 'C0001E Query too complex' }], 'UPSTREAM_REJECTED', 422],
    ['a validation error without a code', [{ message: 'Cannot query field "x" on type "Query".', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }], 'UPSTREAM_REJECTED', 422]
  ])('maps %s to %s', (_what, errors, code, statusCode) => {
    const error = fail(errors)

    expect(error).toMatchObject({ code, statusCode, upstream: { status: 200 } })
  })

  it('prefers not found over duplicate when Fluent reports both', () => {
    expect(fail([{ message: 'C0123E dup' }, { message: 'C0120E missing' }])).toMatchObject({ code: 'NOT_FOUND' })
  })

  it('gives the caller Fluent\'s first message as the detail of a rejection', () => {
    const error = fail([{ message: 'C0105E firstName too long' }, { message: 'second' }])

    expect(error.message).toBe('C0105E firstName too long')
    expect(error.upstream).toEqual({ status: 200, codes: ['C0105E'], messages: ['C0105E firstName too long', 'second'] })
  })

  it('treats an errors value holding no GraphQL errors as a broken answer (502), not a rejection', () => {
    expect(fail('Internal error')).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
    expect(fail([null, 3])).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
  })
})
