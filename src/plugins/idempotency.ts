// Idempotency-Key for creating routes: one mechanism any route opts into with `config: { idempotency: { ... } }`.
//
// How a route opts in (the route file adds only this; the plugin does the rest, OpenAPI included):
//
//   POST /customers, /products:  config: { idempotency: { recover: recoverCustomer } }   (recover: after an ambiguous first attempt)
//   POST /orders:                config: { idempotency: { recover: recoverOrder } }      (recoverOrder looks the order up by ref)
//   POST /events:                config: { idempotency: {} }
//   POST /stock/adjustments:     config: { idempotency: { required: true } }             (400 IDEMPOTENCY_KEY_REQUIRED without one)
//   PUT /stock (JSON or CSV):    config: { idempotency: { fingerprint: 'route' } }
//     then, in the handler, once the stream has been read and hashed and before anything is sent to Fluent:
//       if (await request.idempotency?.fingerprint(sha256Hex) === 'replayed') return reply
//     ('replayed': the stored answer has been sent; a different hash under the same key throws 422 IDEMPOTENCY_KEY_REUSED).
//
// Per request: preValidation refuses a missing key on a `required` route; preHandler (after auth, rate limit and
// validation, so refusals never touch the store) takes the lock or answers from the record; the handler is wrapped so
// a Fluent duplicate after an ambiguous first attempt becomes the first attempt's answer (`recover`); onSend stores the
// answer, keeps an ambiguous marker, or releases the lock.
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { Config } from '../config/index.js'
import { IdempotencyInFlightError, IdempotencyKeyRequiredError, IdempotencyKeyReusedError, withExtras } from '../errors.js'
import { fingerprintOf, IdempotencyStore, type IdempotencyLock, type StoredAnswer } from '../redis/idempotency-store.js'
import { problemResponses } from '../schemas/problem.js'

/** What a route's `recover` answers: the response the first attempt would have given (status, headers, body). */
export interface Recovered {
  status: number
  headers?: Record<string, string>
  body: unknown
}

export interface IdempotencyRouteConfig {
  /** Refuse requests without an Idempotency-Key (400 IDEMPOTENCY_KEY_REQUIRED). */
  required?: boolean
  /**
   * Called when a retry meets Fluent's duplicate (409 CONFLICT) after an earlier attempt with the same key ended
   * ambiguously (502/504): find the entity that attempt created and answer as its success would have; undefined
   * when there is none (the 409 then stands).
   */
  recover?: (request: FastifyRequest) => Promise<Recovered | undefined>
  /**
   * 'body' (default): the fingerprint is the SHA-256 of the canonical JSON body, checked before the handler.
   * 'route': the body is a stream (CSV); the handler calls `request.idempotency.fingerprint(hash)` once it has it.
   */
  fingerprint?: 'body' | 'route'
}

export interface IdempotencyContext {
  /** SHA-256 (hex, shortened) of the key: what logs may show instead of the key. */
  readonly keyHash: string
  /** For `fingerprint: 'route'`: the hash of the bytes read; 'replayed' when the stored answer has been sent instead. */
  fingerprint: (hash: string) => Promise<'proceed' | 'replayed'>
}

declare module 'fastify' {
  interface FastifyContextConfig {
    idempotency?: IdempotencyRouteConfig
  }
  interface FastifyRequest {
    /** Set when the request carries an Idempotency-Key on a route that takes one; null otherwise. */
    idempotency: IdempotencyContext | null
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key'
export const REPLAYED_HEADER = 'idempotent-replayed'

/** Visible ASCII (0x21-0x7E), 1-255 characters: the draft's sf-string, narrowed as Stripe does. */
const KEY_PATTERN = '^[\\x21-\\x7E]{1,255}$'

const KEY_HEADER_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: KEY_PATTERN,
  description: 'A unique key per logical request (a UUID, say), 1-255 visible ASCII characters. A retry with the same key and ' +
    'body gets the first answer again (with `Idempotent-Replayed: true`) and Fluent is not called twice; the same key with ' +
    'another body is 422 IDEMPOTENCY_KEY_REUSED; while the first is running, 409 IDEMPOTENCY_IN_FLIGHT. Kept for IDEMPOTENCY_TTL_S.',
  examples: ['3f2b8c1e-8d7a-4c0e-9b65-2f4a1d6e7c90']
}

const REPLAYED_HEADER_SCHEMA = {
  type: 'string',
  enum: ['true'],
  description: 'present on an answer replayed for a repeated Idempotency-Key',
  examples: ['true']
}

const RETRY_AFTER = { description: 'seconds to wait before trying again', type: 'integer' as const, examples: [1] }

/** Codes of the problems that are Fluent's definite answers, stored like successes. */
const STORED_PROBLEMS = new Set(['NOT_FOUND', 'CONFLICT', 'UPSTREAM_REJECTED'])
/** Answers after which Fluent may or may not have acted. */
const AMBIGUOUS_PROBLEMS = new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT'])

const OUTCOMES = ['stored', 'replayed', 'in_flight', 'reused', 'ambiguous', 'recovered', 'released'] as const
type Outcome = typeof OUTCOMES[number]

interface RequestState {
  key: string
  keyHash: string
  fingerprint: string | undefined
  lock: IdempotencyLock | undefined
  replayed: boolean
}

const STATE = Symbol('idempotency state')
type WithState = FastifyRequest & { [STATE]?: RequestState }

function hooksOf<T> (existing: T | T[] | undefined, added: T): T[] {
  return [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]), added]
}

function headerValue (request: FastifyRequest): string | undefined {
  const value = request.headers[IDEMPOTENCY_HEADER]
  return typeof value === 'string' ? value : undefined
}

/** The code of a problem+json payload, read only for the statuses whose storing depends on it. */
function problemCode (payload: unknown): string | undefined {
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return undefined
  try {
    const code = (JSON.parse(payload.toString()) as { code?: unknown }).code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

/** Adds the header parameter, the problem responses and the replay header to a route's schema: OpenAPI for free. */
function documentRoute (route: RouteOptions, config: IdempotencyRouteConfig): void {
  const schema = { ...route.schema } as Record<string, unknown> & { headers?: Record<string, unknown>, response?: Record<string, unknown> }
  const headers = schema.headers ?? { type: 'object', properties: {} }
  schema.headers = {
    ...headers,
    properties: { ...(headers.properties as Record<string, unknown> | undefined), [IDEMPOTENCY_HEADER]: KEY_HEADER_SCHEMA },
    ...(config.required === true ? { required: [...((headers.required as string[] | undefined) ?? []), IDEMPOTENCY_HEADER] } : {})
  }
  const problems = problemResponses(400, 409, 422)
  const response: Record<string, unknown> = { ...schema.response }
  for (const [status, answer] of Object.entries(response)) {
    if (!/^2\d\d$/.test(status) || typeof answer !== 'object' || answer === null) continue
    const documented = answer as { headers?: Record<string, unknown> }
    response[status] = { ...documented, headers: { ...documented.headers, [REPLAYED_HEADER]: REPLAYED_HEADER_SCHEMA } }
  }
  response[400] ??= problems[400]
  response[409] = { ...(problems[409] ?? {}), headers: { 'retry-after': RETRY_AFTER } }
  response[422] ??= problems[422]
  schema.response = response
  route.schema = schema
}

export default fp(async function idempotencyPlugin (app, opts: { config: Config }) {
  const { config } = opts
  const redis = app.redis
  const store = new IdempotencyStore({
    redis: redis === undefined ? undefined : { client: redis.client, health: redis.health },
    prefix: config.REDIS_KEY_PREFIX,
    ttlMs: config.IDEMPOTENCY_TTL_S * 1000,
    // Longer than any one create can take (an order makes up to three Fluent calls, each with its own deadline).
    lockTtlMs: config.FLUENT_TIMEOUT_MS * 4,
    encryptionKey: config.TOKEN_ENCRYPTION_KEY === undefined ? undefined : Buffer.from(config.TOKEN_ENCRYPTION_KEY, 'base64')
  })

  const outcomes = new Counter({
    name: 'fgw_idempotency_total',
    help: 'Requests with an Idempotency-Key, by outcome: stored, replayed, in_flight (409), reused (422), ambiguous (502/504 kept as a marker), recovered (a duplicate after an ambiguous attempt answered with the entity), released (not stored)',
    labelNames: ['outcome'] as const,
    registers: [app.metrics.registry]
  })
  // Every outcome starts at 0, so dashboards have its series before the first retry.
  for (const outcome of OUTCOMES) outcomes.inc({ outcome }, 0)

  function note (request: FastifyRequest, state: RequestState, outcome: Outcome): void {
    outcomes.inc({ outcome })
    if (outcome !== 'stored' && outcome !== 'released') request.log.info({ idempotencyKeyHash: state.keyHash, idempotency: outcome }, 'idempotency')
  }

  function replay (reply: FastifyReply, state: RequestState, answer: StoredAnswer): FastifyReply {
    state.replayed = true
    reply.code(answer.status)
    for (const [name, value] of Object.entries(answer.headers)) reply.header(name, value)
    reply.header(REPLAYED_HEADER, 'true')
    // A Buffer is sent as it is, never through the response serializer: byte for byte what was stored.
    return reply.send(Buffer.from(answer.body, 'base64'))
  }

  /** Takes the lock or answers from the record; true when the reply has been sent (replay) and the handler must not run. */
  async function begin (request: FastifyRequest, reply: FastifyReply, state: RequestState): Promise<boolean> {
    const result = await store.begin(state.key, state.fingerprint)
    if (result.kind === 'in_flight') {
      note(request, state, 'in_flight')
      throw withExtras(new IdempotencyInFlightError('a request with this Idempotency-Key is still being processed; retry after the time in Retry-After'), { retryAfterSeconds: 1 })
    }
    if (result.kind === 'done') {
      if (state.fingerprint !== undefined && result.fingerprint !== state.fingerprint) throw reused(request, state)
      if (state.fingerprint === undefined) {
        // 'route' fingerprints: the handler compares once it has read the body.
        pending.set(state, result)
        return false
      }
      note(request, state, 'replayed')
      await replay(reply, state, result.answer)
      return true
    }
    state.lock = result.lock
    if (result.lock.ambiguous !== undefined && state.fingerprint !== undefined && result.lock.ambiguous !== state.fingerprint) {
      await store.release(result.lock)
      state.lock = undefined
      throw reused(request, state)
    }
    return false
  }

  function reused (request: FastifyRequest, state: RequestState): Error {
    note(request, state, 'reused')
    return new IdempotencyKeyReusedError('this Idempotency-Key was first used with another body; use a new key for a new request')
  }

  /** Done records found before a 'route' fingerprint was known, waiting for the handler's hash. */
  const pending = new WeakMap<RequestState, { fingerprint: string, answer: StoredAnswer }>()

  app.decorateRequest('idempotency', null)

  app.addHook('onRoute', (route) => {
    const routeConfig = (route.config as { idempotency?: IdempotencyRouteConfig } | undefined)?.idempotency
    if (routeConfig === undefined) return
    const mode = routeConfig.fingerprint ?? 'body'
    documentRoute(route, routeConfig)

    route.preValidation = hooksOf(route.preValidation, async function requireKey (request: FastifyRequest) {
      if (routeConfig.required === true && headerValue(request) === undefined) {
        throw new IdempotencyKeyRequiredError(`${request.method} ${request.routeOptions.url ?? ''} needs an Idempotency-Key header: a request sent twice would count twice`)
      }
    }) as RouteOptions['preValidation']

    route.preHandler = hooksOf(route.preHandler, async function takeKey (request: FastifyRequest, reply: FastifyReply) {
      const key = headerValue(request)
      if (key === undefined) return
      const keyHash = createHash('sha256').update(key).digest('hex').slice(0, 16)
      const scope = createHash('sha256').update(`${request.method} ${request.routeOptions.url ?? ''} ${key}`).digest('hex')
      const state: RequestState = {
        key: store.key(request.tenant.id, scope),
        keyHash,
        fingerprint: mode === 'body' ? fingerprintOf(request.body) : undefined,
        lock: undefined,
        replayed: false
      };
      (request as WithState)[STATE] = state
      request.idempotency = {
        keyHash,
        fingerprint: async (hash: string) => {
          if (state.fingerprint !== undefined) throw new Error('the idempotency fingerprint was already given')
          state.fingerprint = hash
          const done = pending.get(state)
          if (done !== undefined) {
            if (done.fingerprint !== hash) throw reused(request, state)
            note(request, state, 'replayed')
            await replay(reply, state, done.answer)
            return 'replayed'
          }
          const ambiguous = state.lock?.ambiguous
          if (state.lock !== undefined && ambiguous !== undefined && ambiguous !== hash) {
            await store.release(state.lock)
            state.lock = undefined
            throw reused(request, state)
          }
          return 'proceed'
        }
      }
      if (await begin(request, reply, state)) return reply
    }) as RouteOptions['preHandler']

    const handler = route.handler
    const recover = routeConfig.recover
    if (recover !== undefined) {
      route.handler = async function recoverAfterAmbiguous (this: unknown, request: FastifyRequest, reply: FastifyReply) {
        try {
          return await handler.call(this as never, request, reply)
        } catch (error) {
          const state = (request as WithState)[STATE]
          if (state?.lock?.ambiguous === undefined || (error as { code?: unknown }).code !== 'CONFLICT') throw error
          const recovered = await recover(request)
          if (recovered === undefined) throw error
          note(request, state, 'recovered')
          reply.code(recovered.status)
          for (const [name, value] of Object.entries(recovered.headers ?? {})) reply.header(name, value)
          return await reply.send(recovered.body)
        }
      } as RouteOptions['handler']
    }

    route.onSend = hooksOf(route.onSend, async function finish (request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      const state = (request as WithState)[STATE]
      const lock = state?.lock
      if (state === undefined || lock === undefined || state.replayed) return payload
      state.lock = undefined
      const status = reply.statusCode
      const fingerprint = state.fingerprint
      const code = status >= 400 ? problemCode(payload) : undefined
      const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.isBuffer(payload) ? payload : undefined
      if (fingerprint !== undefined && bytes !== undefined && ((status >= 200 && status < 300) || (code !== undefined && STORED_PROBLEMS.has(code)))) {
        const headers: Record<string, string> = {}
        for (const name of ['content-type', 'location']) {
          const value = reply.getHeader(name)
          if (value !== undefined) headers[name] = String(value)
        }
        await store.complete(lock, fingerprint, { status, headers, body: bytes.toString('base64') })
        note(request, state, 'stored')
      } else if (fingerprint !== undefined && code !== undefined && AMBIGUOUS_PROBLEMS.has(code)) {
        await store.markAmbiguous(lock, fingerprint)
        note(request, state, 'ambiguous')
      } else {
        await store.release(lock)
        note(request, state, 'released')
      }
      return payload
    }) as RouteOptions['onSend']
  })
}, { name: 'idempotency', dependencies: ['redis', 'metrics', 'auth'] })
