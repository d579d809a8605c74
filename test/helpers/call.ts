// One HTTP call to a running gateway, answering what a caller sees: status, headers, body (parsed when JSON) and time taken.
import { expect } from 'vitest'

export interface Answer {
  status: number
  headers: Headers
  text: string
  /** The body parsed as JSON; undefined when empty or not JSON. */
  body: any
  ms: number
}

export interface CallOptions {
  /** GET without a body, POST with one. */
  method?: string
  /** JSON-encoded (with content-type: application/json) unless a string, which is sent as it is, with only the headers given. */
  body?: unknown
  /** Added last: they override the authorization and content-type set here. */
  headers?: Record<string, string>
  /** Sent as "Authorization: Bearer <apiKey>"; null sends none. */
  apiKey?: string | null
}

/**
 * Calls `path` on a gateway. Given a gateway (anything with url and apiKey), the call carries that gateway's key unless
 * options.apiKey says otherwise; given a base URL, it carries only the key options.apiKey names.
 */
export async function call (target: string | { url: string, apiKey: string }, path: string, options: CallOptions = {}): Promise<Answer> {
  const { method = options.body === undefined ? 'GET' : 'POST', body } = options
  const [baseUrl, defaultKey] = typeof target === 'string' ? [target, undefined] : [target.url, target.apiKey]
  const apiKey = options.apiKey === undefined ? defaultKey : options.apiKey
  const headers: Record<string, string> = {
    ...(apiKey === undefined || apiKey === null ? {} : { authorization: `Bearer ${apiKey}` }),
    ...(body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/json' }),
    ...options.headers
  }
  const started = performance.now()
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) })
  })
  const text = await response.text()
  const ms = performance.now() - started
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: response.status, headers: response.headers, text, body: parsed, ms }
}

/** Asserts the answer is a problem+json of this status and code, carrying every RFC 9457 field and the request id. */
export function expectProblem (answer: Answer, status: number, code: string, instance?: string): void {
  expect(answer.status).toBe(status)
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  expect(answer.body).toMatchObject({
    type: expect.stringMatching(/^urn:fluent-rest-gateway:problem:/),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    ...(instance === undefined ? {} : { instance }),
    code,
    requestId: answer.headers.get('x-request-id')
  })
}

/** The value of one Prometheus sample, e.g. metric('http_requests_total', { route: '/me', status_code: '200' }); 0 when absent. */
export function metricValue (exposition: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]))
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) return Number(match[3])
  }
  return 0
}
