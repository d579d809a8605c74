// One HTTP call to a running gateway, answering what a caller sees: status, headers, body (parsed when JSON) and time taken.
export interface Answer {
  status: number
  headers: Headers
  text: string
  body: any
  ms: number
}

export interface CallOptions {
  method?: string
  /** JSON-encoded unless a string, which is sent as it is. */
  body?: unknown
  headers?: Record<string, string>
  /** Sent as "Authorization: Bearer <apiKey>" when given. */
  apiKey?: string
}

export async function call (baseUrl: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const { method = options.body === undefined ? 'GET' : 'POST', body, apiKey } = options
  const headers: Record<string, string> = {
    ...(apiKey === undefined ? {} : { authorization: `Bearer ${apiKey}` }),
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
