// The Fluent client: one call mechanism for GraphQL and Fluent's REST APIs (Event, Job): token, deadline, 401 renewal,
// retries of reads only, circuit (in the transport) and metrics, whatever is sent.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Tenant } from '../config/tenants.js'
import { UpstreamSchemaDriftError, UpstreamTimeoutError, UpstreamUnavailableError } from '../errors.js'
import { BoundedMemo } from '../memo.js'
import { isCircuitOpenError } from './circuit.js'
import { callFailure, graphqlFailure, httpFailure, parseBody, retryAfterSeconds, type GraphqlBody } from './classify.js'
import type { FluentObserver } from './observer.js'
import type { TokenProvider } from './tokens.js'
import type { HttpAnswer, Transport } from './transport.js'

export interface GraphqlRequest {
  query: string
  variables?: Record<string, unknown> | undefined
  operationName?: string | undefined
  /** The metric label and the name the schema check refuses by; operationName when not given (operator routes: their operationId). */
  operation?: string | undefined
  /** Mutations are never retried once they may have reached Fluent; queries are. */
  kind: 'query' | 'mutation'
}

/**
 * A call to one of Fluent's REST APIs (Event API, Job/Batch API). GETs are retried like queries; a POST or PUT is never
 * retried once it may have reached Fluent.
 */
export interface RestRequest {
  method: 'GET' | 'POST' | 'PUT'
  /** Under the tenant's base URL, e.g. /api/v4.1/event/async. */
  path: string
  /** Sent as JSON. */
  body?: unknown
  /** Sent as is instead of `body`: JSON already serialised (a big batch built without its objects). */
  json?: string | Buffer
  /** The metric label, e.g. EventAsync. */
  operation: string
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
  /**
   * Consulted before every GraphQL call: a reason when this tenant's live schema no longer accepts the operation's
   * document (the schema check), which then fails at once with 502 UPSTREAM_SCHEMA_DRIFT instead of being sent.
   */
  refuses?: (tenant: Tenant, operation: string, query: string) => string | undefined
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
  /** Calls a Fluent REST API and answers its JSON body (undefined when empty); a non-2xx answer becomes a typed error. */
  rest: <T>(tenant: Tenant, request: RestRequest, context: CallContext) => Promise<T>
  close: () => Promise<void>
}

/** What one call sends, and how an answer that is not a 401 becomes its result (or undefined: retry it if allowed). */
interface CallSpec<R> {
  operation: string
  method: 'GET' | 'POST' | 'PUT'
  path: string
  body: string | Buffer | undefined
  /** Reads (queries, GETs) are retried on connection errors, 429 and 502-504; writes only when nothing was sent. */
  retryable: boolean
  /** The result of a usable answer, or undefined when it is not one (then retried when retryable, else httpFailure). */
  accept: (answer: HttpAnswer) => R | undefined
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' }

function acceptGraphql (answer: HttpAnswer): FluentAnswer | undefined {
  const parsed = answer.status === 200 ? parseBody(answer) : undefined
  return parsed === undefined ? undefined : { status: 200, body: parsed, text: answer.text }
}

/** A 2xx with a JSON body (or none) is a REST API's answer; a 2xx that is not JSON is a broken one. */
function acceptRest (answer: HttpAnswer): { value: unknown } | undefined {
  if (answer.status < 200 || answer.status > 299) return undefined
  if (answer.text.trim() === '') return { value: undefined }
  try {
    return { value: JSON.parse(answer.text) as unknown }
  } catch {
    throw new UpstreamUnavailableError(`Fluent answered HTTP ${answer.status} with a body that is not JSON`)
  }
}

/** The documents sent are few and fixed (the built-in ones, operator routes, an integration's own): each is JSON-quoted once. */
const QUOTED = new BoundedMemo<string>(500, 8 * 1024)
const quote = (query: string): string => JSON.stringify(query)

/** The body of a GraphQL call: the same JSON as JSON.stringify({ query, variables, operationName }) would give. */
export function graphqlBody (query: string, variables: Record<string, unknown> | undefined, operationName: string | undefined): string {
  const name = operationName === undefined ? '' : `,"operationName":${JSON.stringify(operationName)}`
  return `{"query":${QUOTED.get(query, quote)},"variables":${variables === undefined ? '{}' : JSON.stringify(variables)}${name}}`
}

export function createFluentClient (options: FluentClientOptions): FluentClient {
  const { transport, tokens, timeoutMs } = options
  const maxAttempts = options.maxAttempts ?? 3
  const retryBaseMs = options.retryBaseMs ?? 100

  /** Sleeps before the next attempt unless that would pass the deadline; answers whether to retry. */
  async function backOff (attempt: number, retryAfter: number | undefined, deadline: number, signal: AbortSignal): Promise<boolean> {
    if (attempt >= maxAttempts) return false
    const jittered = Math.random() * retryBaseMs * 2 ** (attempt - 1)
    const wait = retryAfter === undefined ? jittered : Math.max(retryAfter * 1000, jittered)
    if (Date.now() + wait >= deadline) return false
    await sleep(wait, undefined, { signal })
    return true
  }

  /**
   * One call, attempts and renewal included, in one async function (each layer of async wrapper would add a promise and
   * microtask turns per call). Reports its outcome (ok, or the error code it ended with) and duration to the observer.
   */
  async function call<R> (tenant: Tenant, spec: CallSpec<R>, context: CallContext): Promise<R> {
    const started = performance.now()
    const report = options.observer?.upstream
    const deadline = Date.now() + timeoutMs
    // A timer cleared when the call ends: AbortSignal.timeout would keep one alive for the whole deadline per call.
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort(new DOMException('Fluent call deadline passed', 'TimeoutError')) }, timeoutMs)
    const signal = controller.signal
    const url = `${tenant.fluent.baseUrl}${spec.path}`
    let renewedToken = false
    let attempt = 0

    try {
      for (;;) {
        attempt++
        const token = await tokens.get(tenant, signal)
        let answer: HttpAnswer
        const sentAt = performance.now()
        try {
          answer = await transport.request(spec.method, url, {
            ...JSON_HEADERS,
            authorization: `Bearer ${token}`,
            'x-request-id': context.requestId
          }, spec.body, signal)
        } catch (error) {
          // An open circuit sent nothing and will not close within a back-off: fail fast with its Retry-After.
          if (isCircuitOpenError(error)) throw error
          const failure = callFailure(error, signal, `${spec.operation} call`)
          const mayRetry = spec.retryable || NOT_SENT.has(errorCode(error) ?? '')
          if (!signal.aborted && mayRetry && await backOff(attempt, undefined, deadline, signal)) continue
          throw failure
        } finally {
          context.upstreamMs = (context.upstreamMs ?? 0) + performance.now() - sentAt
        }

        if (answer.status === 401 && !renewedToken) {
          // Fluent refused the token (expired or revoked): drop that one token, get a new one, retry once.
          renewedToken = true
          attempt--
          await tokens.invalidate(tenant, token, signal)
          continue
        }
        const result = spec.accept(answer)
        if (result !== undefined) {
          report?.(spec.operation, 'ok', performance.now() - started)
          return result
        }
        if (spec.retryable && RETRYABLE_STATUS.has(answer.status) &&
          await backOff(attempt, retryAfterSeconds(answer.headers), deadline, signal)) continue
        throw httpFailure(answer, parseBody(answer))
      }
    } catch (error) {
      // Past the deadline anything still untyped (an aborted wait for a token or a back-off) is a timeout.
      const failure = signal.aborted && typeof (error as { statusCode?: unknown }).statusCode !== 'number'
        ? new UpstreamTimeoutError('Fluent did not answer in time', { cause: error })
        : error
      report?.(spec.operation, isCircuitOpenError(failure) ? 'CIRCUIT_OPEN' : (failure as { code?: string }).code ?? 'error', performance.now() - started)
      throw failure
    } finally {
      clearTimeout(timer)
    }
  }

  function graphqlSpec (request: GraphqlRequest): CallSpec<FluentAnswer> {
    const { query, variables, operationName, kind } = request
    return {
      operation: request.operation ?? operationName ?? 'anonymous',
      method: 'POST',
      path: '/graphql',
      body: graphqlBody(query, variables, operationName),
      retryable: kind === 'query',
      accept: acceptGraphql
    }
  }

  const execute = async (tenant: Tenant, request: GraphqlRequest, context: CallContext): Promise<FluentAnswer> => {
    const spec = graphqlSpec(request)
    const drift = options.refuses?.(tenant, spec.operation, request.query)
    if (drift !== undefined) {
      options.observer?.upstream?.(spec.operation, 'UPSTREAM_SCHEMA_DRIFT', 0)
      throw new UpstreamSchemaDriftError(`Fluent's schema for this tenant no longer accepts the ${spec.operation} document: ${drift}`)
    }
    return await call(tenant, spec, context)
  }

  return {
    execute,
    async data<T> (tenant: Tenant, request: GraphqlRequest, context: CallContext): Promise<T> {
      const answer = await execute(tenant, request, context)
      const { data, errors } = answer.body
      if (errors !== undefined && errors.length > 0) throw graphqlFailure(answer.status, errors)
      // A 200 with neither data nor errors is a broken answer, not a rejection of the caller's input.
      if (data === undefined || data === null) throw new UpstreamUnavailableError('Fluent answered 200 without data or errors')
      return data as T
    },
    async rest<T> (tenant: Tenant, request: RestRequest, context: CallContext): Promise<T> {
      const answer = await call(tenant, {
        operation: request.operation,
        method: request.method,
        path: request.path,
        body: request.json ?? (request.body === undefined ? undefined : JSON.stringify(request.body)),
        retryable: request.method === 'GET',
        accept: acceptRest
      }, context)
      return answer.value as T
    },
    async close () {
      await transport.close()
    }
  }
}
