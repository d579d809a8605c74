// Fluent Commerce simulator: an HTTP server with Fluent's token and GraphQL endpoints, fault switches, counters and admin routes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseJson, readBody, sendJson } from './http.js'
import { SimulatorStore } from './store.js'
import { CREDENTIAL_PARAMS, TokenRegistry } from './tokens.js'
import { readGraphqlBody, runGraphql } from './graphql.js'
import { removedFieldsProblem, servedSchema } from './schema.js'
import { commitThenFailProblem, failAfterCommit, takeCommitThenFail } from './commit-then-fail.js'
import { createWebhookSender } from './webhooks.js'
import { createRestApis, DEFAULT_JOB_STEP_MS, restFaultProblem } from './rest-apis.js'
import type {
  BatchRecord, Counters, EventRecord, Faults, GraphqlFailure, GraphqlRecord, IssuedTokenRecord, JobRecord, Simulator, SimulatorAccount,
  SimulatorOptions, TokenRecord
} from './types.js'

export type {
  BatchRecord, Counters, EventRecord, Faults, GraphqlFailure, GraphqlRecord, IssuedTokenRecord, JobRecord, RestFailure, Simulator,
  SimulatorAccount, SimulatorOptions, TokenRecord
} from './types.js'
export { servedSchema } from './schema.js'
export { DEMO_SEED } from './seed.js'
export { FIRST_ID } from './store.js'

export const DEFAULT_ACCOUNT: Readonly<SimulatorAccount> = Object.freeze({
  clientId: 'DEMO',
  clientSecret: 'demo-secret',
  username: 'demo_integration',
  password: 'demo-password',
  retailerId: '1'
})

/** Fluent's request body limit. */
const GRAPHQL_BODY_LIMIT = 2 * 1024 * 1024
const TOKEN_BODY_LIMIT = 64 * 1024
const ADMIN_BODY_LIMIT = 64 * 1024

const unauthorizedBody = { errors: [{ code: '401', message: 'Unauthorized' }] }

type JsonBody = Record<string, unknown> | unknown[]

function defaultFaults (tokenTtlSeconds: number, jobStepMs = DEFAULT_JOB_STEP_MS): Faults {
  return {
    tokenDelayMs: 0,
    graphqlDelayMs: 0,
    hang: false,
    badCredentials: false,
    tokenTtlSeconds,
    issueRefreshToken: false,
    graphqlFailures: [],
    removedFields: [],
    commitThenFail: null,
    restFailures: [],
    restDelayMs: 0,
    jobStepMs
  }
}

function isNonNegativeNumber (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

function faultFailureProblem (failure: unknown, index: number): string | null {
  if (typeof failure !== 'object' || failure === null) return `graphqlFailures[${index}] must be an object`
  const { status, body, headers, times } = failure as Record<string, unknown>
  if (!Number.isInteger(status) || (status as number) < 100 || (status as number) > 599) {
    return `graphqlFailures[${index}].status must be an HTTP status`
  }
  if (body !== undefined && typeof body !== 'string') return `graphqlFailures[${index}].body must be a string`
  if (headers !== undefined && (typeof headers !== 'object' || headers === null ||
    Object.values(headers).some((value) => typeof value !== 'string'))) {
    return `graphqlFailures[${index}].headers must map names to strings`
  }
  if (times !== undefined && (!Number.isInteger(times) || (times as number) < 1)) {
    return `graphqlFailures[${index}].times must be a positive integer`
  }
  return null
}

/** Checks a PATCH /_sim/faults body; returns what is wrong with it, or null. */
function faultsPatchProblem (patch: unknown): string | null {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return 'body must be a JSON object'
  for (const [key, value] of Object.entries(patch)) {
    switch (key) {
      case 'tokenDelayMs':
      case 'graphqlDelayMs':
      case 'tokenTtlSeconds':
        if (!isNonNegativeNumber(value)) return `${key} must be a non-negative number`
        break
      case 'hang':
      case 'badCredentials':
      case 'issueRefreshToken':
        if (typeof value !== 'boolean') return `${key} must be a boolean`
        break
      case 'graphqlFailures': {
        if (!Array.isArray(value)) return 'graphqlFailures must be an array'
        for (const [index, failure] of value.entries()) {
          const problem = faultFailureProblem(failure, index)
          if (problem !== null) return problem
        }
        break
      }
      case 'commitThenFail': {
        const problem = commitThenFailProblem(value)
        if (problem !== null) return problem
        break
      }
      case 'removedFields': {
        const problem = removedFieldsProblem(value)
        if (problem !== null) return problem
        break
      }
      default: {
        const problem = restFaultProblem(key, value)
        if (problem === undefined) return `unknown fault: ${key}`
        if (problem !== null) return problem
      }
    }
  }
  return null
}

function urlOf (address: AddressInfo): string {
  const wildcard = address.address === '0.0.0.0' || address.address === '::'
  const host = wildcard ? '127.0.0.1' : address.address
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`
}

/** Starts a Fluent simulator on its own HTTP server; resolves once it listens. */
export async function startSimulator (options: SimulatorOptions = {}): Promise<Simulator> {
  const accounts = (options.accounts ?? [DEFAULT_ACCOUNT]).map((account) => ({ ...account }))
  const initialTtl = options.tokenTtlSeconds ?? 86400
  // Built once per process (about 0.1 s for Fluent's whole schema), before the first request rather than during it.
  servedSchema()
  const store = new SimulatorStore(accounts, { demoData: options.demoData ?? false })
  const tokens = new TokenRegistry(accounts)
  const faults = defaultFaults(initialTtl, options.jobStepMs)
  const counters: Counters = {
    tokenRequests: 0, graphqlRequests: 0, expiredTokenRequests: 0, unauthorizedRequests: 0, eventRequests: 0, jobRequests: 0, batchRequests: 0, restReads: 0
  }
  const events: EventRecord[] = []
  const jobs: JobRecord[] = []
  const batches: BatchRecord[] = []
  const requests: GraphqlRecord[] = []
  const tokenRequests: TokenRecord[] = []
  const issuedTokens: IssuedTokenRecord[] = []
  // Aborted by close(): delayed and hung requests stop waiting and are never answered.
  const closing = new AbortController()
  const webhooks = createWebhookSender({ retryDelaysMs: options.webhookRetryDelaysMs, accountId: accounts[0]?.clientId, retailerId: accounts[0]?.retailerId })

  async function pause (ms: number): Promise<void> {
    if (ms <= 0) return
    await sleep(ms, undefined, { signal: closing.signal }).catch(() => {})
  }

  async function hangUntilClosed (): Promise<void> {
    if (closing.signal.aborted) return
    await new Promise((resolve) => closing.signal.addEventListener('abort', resolve, { once: true }))
  }

  const restApis = createRestApis({
    store, tokens, faults, counters, events, jobs, batches, bodyLimit: GRAPHQL_BODY_LIMIT, pause, closed: () => closing.signal.aborted
  })

  function takeFailure (): GraphqlFailure | undefined {
    const head = faults.graphqlFailures[0]
    if (head === undefined) return undefined
    head.times = (head.times ?? 1) - 1
    if (head.times <= 0) faults.graphqlFailures.shift()
    return head
  }

  function sendFailure (res: ServerResponse, failure: GraphqlFailure): void {
    const body = failure.body ?? JSON.stringify({ errors: [{ message: `Simulated HTTP ${failure.status}` }] })
    const headers: Record<string, string> = { ...failure.headers }
    if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
      headers['content-type'] = parseJson(Buffer.from(body)).ok ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'
    }
    res.writeHead(failure.status, { ...headers, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }

  async function handleToken (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    counters.tokenRequests++
    const body = await readBody(req, TOKEN_BODY_LIMIT)
    await pause(faults.tokenDelayMs)
    if (closing.signal.aborted) return
    const noStore = { 'cache-control': 'no-store' }
    const contentType = req.headers['content-type'] ?? ''
    const form = contentType.startsWith('application/x-www-form-urlencoded') && body !== null
      ? new URLSearchParams(body.toString('utf8'))
      : new URLSearchParams()
    const grantType = form.get('grant_type') ?? url.searchParams.get('grant_type') ?? ''
    const refreshOwner = tokens.refreshTokenOwner(form.get('refresh_token') ?? '')
    const record: TokenRecord = { grantType, at: Date.now() }
    const username = form.get('username') ?? url.searchParams.get('username') ?? refreshOwner?.username
    const clientId = form.get('client_id') ?? url.searchParams.get('client_id')
    if (username != null) record.username = username
    if (clientId != null) record.clientId = clientId
    tokenRequests.push(record)

    if (CREDENTIAL_PARAMS.some((name) => url.searchParams.has(name))) {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'credentials must be in the body' }, noStore)
      return
    }
    if (body === null) {
      sendJson(res, 413, { error: 'invalid_request', error_description: 'request body too large' }, noStore)
      return
    }
    if (!contentType.startsWith('application/x-www-form-urlencoded')) {
      sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'body must be application/x-www-form-urlencoded'
      }, noStore)
      return
    }
    const answer = tokens.grant(form, faults)
    if (answer.status === 200 && (grantType === 'password' || grantType === 'refresh_token')) {
      const issued: IssuedTokenRecord = { grantType, accessToken: String(answer.body.access_token), at: Date.now() }
      if (typeof answer.body.refresh_token === 'string') issued.refreshToken = answer.body.refresh_token
      issuedTokens.push(issued)
    }
    sendJson(res, answer.status, answer.body, noStore)
  }

  async function handleGraphql (req: IncomingMessage, res: ServerResponse): Promise<void> {
    counters.graphqlRequests++
    const record: GraphqlRecord = { query: '', variables: undefined, headers: { ...req.headers }, status: 0, at: Date.now() }
    requests.push(record)
    const answer = (status: number, body: unknown, headers?: Record<string, string>): void => {
      record.status = status
      sendJson(res, status, body, headers)
    }

    const raw = await readBody(req, GRAPHQL_BODY_LIMIT)
    const json = raw === null ? { ok: false as const } : parseJson(raw)
    if (json.ok && typeof json.value === 'object' && json.value !== null) {
      const { query, variables, operationName } = json.value as Record<string, unknown>
      if (typeof query === 'string') record.query = query
      record.variables = variables
      if (typeof operationName === 'string') record.operationName = operationName
    }

    // The failure queue comes before auth, so a test can have any request answered with a 5xx or 429.
    const failure = takeFailure()
    await pause(faults.graphqlDelayMs)
    if (closing.signal.aborted) return
    if (failure !== undefined) {
      record.status = failure.status
      sendFailure(res, failure)
      return
    }
    if (faults.hang) {
      await hangUntilClosed()
      return
    }

    // Fluent's body limit sits in front of its auth, like a proxy's would.
    if (raw === null) {
      answer(413, { errors: [{ message: 'Request body exceeds 2 MB' }] })
      return
    }

    const check = tokens.authorize(req.headers.authorization, counters)
    if (check.state !== 'valid') {
      answer(401, unauthorizedBody)
      return
    }

    if (!json.ok) {
      answer(400, { errors: [{ message: 'Invalid JSON' }] })
      return
    }
    const request = readGraphqlBody(json.value)
    if (typeof request === 'string') {
      answer(400, { errors: [{ message: request }] })
      return
    }
    const lost = takeCommitThenFail(faults, request.query, request.operationName)
    const result = await runGraphql(servedSchema(faults.removedFields), request, store, check.account)
    if (lost !== undefined) {
      record.status = lost.mode === 'drop' ? 0 : 502
      failAfterCommit(res, lost)
      return
    }
    answer(result.status, result.body)
  }

  function state (): { counters: Counters, faults: Faults } {
    return { counters, faults }
  }

  async function handleAdmin (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const route = `${req.method ?? ''} ${path}`
    switch (route) {
      case 'GET /_sim/state':
        sendJson(res, 200, state())
        return
      case 'PATCH /_sim/faults': {
        const raw = await readBody(req, ADMIN_BODY_LIMIT)
        const json = raw === null ? { ok: false as const } : parseJson(raw)
        if (!json.ok) {
          sendJson(res, 400, { error: 'body must be JSON' })
          return
        }
        const problem = faultsPatchProblem(json.value)
        if (problem !== null) {
          sendJson(res, 400, { error: problem })
          return
        }
        Object.assign(faults, json.value as JsonBody)
        sendJson(res, 200, state())
        return
      }
      case 'POST /_sim/reset':
        await readBody(req, ADMIN_BODY_LIMIT)
        simulator.reset()
        sendJson(res, 200, state())
        return
      case 'POST /_sim/revoke':
        await readBody(req, ADMIN_BODY_LIMIT)
        sendJson(res, 200, { revoked: tokens.revokeAccessTokens() })
        return
      default:
        sendJson(res, 404, { error: `no admin route ${route}` })
    }
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator.invalid')
    const path = url.pathname
    if (path === '/oauth/token' || path === '/graphql') {
      if (req.method !== 'POST') {
        if (path === '/graphql') counters.graphqlRequests++
        else counters.tokenRequests++
        req.resume()
        sendJson(res, 405, { error: 'method not allowed' }, { allow: 'POST' })
        return
      }
      if (path === '/oauth/token') await handleToken(req, res, url)
      else await handleGraphql(req, res)
      return
    }
    if (path.startsWith('/_sim/webhooks') && await webhooks.handleAdmin(req, res, path, async () => {
      const raw = await readBody(req, ADMIN_BODY_LIMIT)
      const json = raw === null ? { ok: false as const } : parseJson(raw)
      return json.ok ? json.value : undefined
    })) return
    if (path.startsWith('/api/v4.1/')) {
      await restApis.handle(req, res, path)
      return
    }
    if (path.startsWith('/_sim/')) {
      await handleAdmin(req, res, path)
      return
    }
    req.resume()
    sendJson(res, 404, { error: 'not found' })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // A client that went away mid-body lands here; nothing useful can be answered then.
      if (res.headersSent || res.destroyed) res.destroy()
      else sendJson(res, 500, { errors: [{ message: 'Internal simulator error' }] })
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })

  let closed: Promise<void> | undefined
  const simulator: Simulator = {
    url: urlOf(server.address() as AddressInfo),
    faults,
    counters,
    requests,
    tokenRequests,
    issuedTokens,
    get webhookPublicKey () { return webhooks.publicKeyPem },
    webhooks,
    events,
    jobs,
    batches,
    revokeTokens: () => { tokens.revokeAccessTokens() },
    reset: () => {
      Object.assign(faults, defaultFaults(initialTtl, options.jobStepMs))
      for (const name of Object.keys(counters) as Array<keyof Counters>) counters[name] = 0
      events.length = 0
      jobs.length = 0
      batches.length = 0
      restApis.reset()
      requests.length = 0
      tokenRequests.length = 0
      issuedTokens.length = 0
      store.seed()
      webhooks.reset()
    },
    close: async () => {
      closed ??= webhooks.close().then(async () => await new Promise<void>((resolve) => {
        closing.abort()
        server.close(() => resolve())
        // Keep-alive and hung connections would hold close() open; destroy them.
        server.closeAllConnections()
      }))
      await closed
    }
  }
  return simulator
}
