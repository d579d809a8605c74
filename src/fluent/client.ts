// The Fluent client: sends one GraphQL operation for a tenant with its token, deadline, 401 renewal and query retries.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Tenant } from '../config/tenants.js'
import { UpstreamTimeoutError, UpstreamUnavailableError } from '../errors.js'
import { isCircuitOpenError } from './circuit.js'
import { callFailure, graphqlFailure, httpFailure, parseBody, retryAfterSeconds, type GraphqlBody } from './classify.js'
import type { FluentObserver } from './observer.js'
import type { TokenProvider } from './tokens.js'
import type { HttpAnswer, Transport } from './transport.js'

export interface GraphqlRequest {
  query: string
  variables?: Record<string, unknown> | undefined
  operationName?: string | undefined
  /** Mutations are never retried once they may have reached Fluent; queries are. */
  kind: 'query' | 'mutation'
}

/** Per-call context: the caller's request id (forwarded to Fluent) and a tally of time spent upstream. */
export interface CallContext {
  requestId: string
  upstreamMs?: number
}

export interface FluentAnswer {
  status: number
  body: GraphqlBody
  text: string
}

export interface FluentClientOptions {
  transport: Transport
  tokens: TokenProvider
  /** Whole deadline of one call, token fetch and retries included. */
  timeoutMs: number
  /** Most attempts for a query (the first included). */
  maxAttempts?: number
  /** First back-off; doubles each retry, with full jitter. */
  retryBaseMs?: number
  observer?: FluentObserver
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504])

/** Connection errors that prove the request never left this process, so even a mutation may be retried. */
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN'])

function errorCode (error: unknown): string | undefined {
  let current: unknown = error
  while (current !== null && typeof current === 'object') {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

export interface FluentClient {
  /** Sends the request; answers Fluent's 200 GraphQL body as is (errors included), throws a typed error otherwise. */
  execute: (tenant: Tenant, request: GraphqlRequest, context: CallContext) => Promise<FluentAnswer>
  /** Sends the request and answers its `data`; GraphQL errors become typed errors. */
  data: <T>(tenant: Tenant, request: GraphqlRequest, context: CallContext) => Promise<T>
  close: () => Promise<void>
}

export function createFluentClient (options: FluentClientOptions): FluentClient {
  const { transport, tokens, timeoutMs } = options
  const maxAttempts = options.maxAttempts ?? 3
  const retryBaseMs = options.retryBaseMs ?? 100

  async function send (tenant: Tenant, token: string, body: string, context: CallContext, signal: AbortSignal): Promise<HttpAnswer> {
    const started = performance.now()
    try {
      return await transport.post(`${tenant.fluent.baseUrl}/graphql`, {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json',
        'x-request-id': context.requestId
      }, body, signal)
    } finally {
      context.upstreamMs = (context.upstreamMs ?? 0) + performance.now() - started
    }
  }

  /** Sleeps before the next attempt unless that would pass the deadline; answers whether to retry. */
  async function backOff (attempt: number, retryAfter: number | undefined, deadline: number, signal: AbortSignal): Promise<boolean> {
    if (attempt >= maxAttempts) return false
    const jittered = Math.random() * retryBaseMs * 2 ** (attempt - 1)
    const wait = retryAfter === undefined ? jittered : Math.max(retryAfter * 1000, jittered)
    if (Date.now() + wait >= deadline) return false
    await sleep(wait, undefined, { signal })
    return true
  }

  /** Reports each call's outcome (ok, or the error code it ended with) and duration to the observer. */
  async function observed (tenant: Tenant, request: GraphqlRequest, context: CallContext): Promise<FluentAnswer> {
    const report = options.observer?.upstream
    if (report === undefined) return await execute(tenant, request, context)
    const started = performance.now()
    try {
      const answer = await execute(tenant, request, context)
      report(request.operationName ?? 'anonymous', 'ok', performance.now() - started)
      return answer
    } catch (error) {
      const outcome = isCircuitOpenError(error) ? 'CIRCUIT_OPEN' : (error as { code?: string }).code ?? 'error'
      report(request.operationName ?? 'anonymous', outcome, performance.now() - started)
      throw error
    }
  }

  async function execute (tenant: Tenant, request: GraphqlRequest, context: CallContext): Promise<FluentAnswer> {
    const deadline = Date.now() + timeoutMs
    // A timer cleared when the call ends: AbortSignal.timeout would keep one alive for the whole deadline per call.
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort(new DOMException('Fluent call deadline passed', 'TimeoutError')) }, timeoutMs)
    const signal = controller.signal
    const body = JSON.stringify({ query: request.query, variables: request.variables ?? {}, ...(request.operationName === undefined ? {} : { operationName: request.operationName }) })
    let renewedToken = false
    let attempt = 0

    try {
      for (;;) {
        attempt++
        const token = await tokens.get(tenant, signal)
        let answer: HttpAnswer
        try {
          answer = await send(tenant, token, body, context, signal)
        } catch (error) {
          // An open circuit sent nothing and will not close within a back-off: fail fast with its Retry-After.
          if (isCircuitOpenError(error)) throw error
          const failure = callFailure(error, signal, 'GraphQL request')
          const mayRetry = request.kind === 'query' || NOT_SENT.has(errorCode(error) ?? '')
          if (!signal.aborted && mayRetry && await backOff(attempt, undefined, deadline, signal)) continue
          throw failure
        }

        if (answer.status === 401 && !renewedToken) {
          // Fluent refused the token (expired or revoked): drop that one token, get a new one, retry once.
          renewedToken = true
          attempt--
          await tokens.invalidate(tenant, token, signal)
          continue
        }
        const parsed = parseBody(answer)
        if (answer.status === 200 && parsed !== undefined) return { status: 200, body: parsed, text: answer.text }
        if (request.kind === 'query' && RETRYABLE_STATUS.has(answer.status) &&
          await backOff(attempt, retryAfterSeconds(answer.headers), deadline, signal)) continue
        throw httpFailure(answer, parsed)
      }
    } catch (error) {
      // Past the deadline anything still untyped (an aborted wait for a token or a back-off) is a timeout.
      if (signal.aborted && typeof (error as { statusCode?: unknown }).statusCode !== 'number') {
        throw new UpstreamTimeoutError('Fluent did not answer in time', { cause: error })
      }
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    execute: observed,
    async data<T> (tenant: Tenant, request: GraphqlRequest, context: CallContext): Promise<T> {
      const answer = await observed(tenant, request, context)
      const { data, errors } = answer.body
      if (errors !== undefined && errors.length > 0) throw graphqlFailure(answer.status, errors)
      // A 200 with neither data nor errors is a broken answer, not a rejection of the caller's input.
      if (data === undefined || data === null) throw new UpstreamUnavailableError('Fluent answered 200 without data or errors')
      return data as T
    },
    async close () {
      await transport.close()
    }
  }
}
