// The Fluent client over real HTTP: deadline, query retries (connection errors, 5xx, 429 + Retry-After), no mutation retries, circuit breaker.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseTenants, type Tenant } from '../../src/config/tenants.js'
import type { CircuitState } from '../../src/fluent/circuit.js'
import { createFluentClient, graphqlBody, type FluentClient, type FluentClientOptions, type GraphqlRequest } from '../../src/fluent/client.js'
import { requestToken } from '../../src/fluent/oauth.js'
import { TokenProvider } from '../../src/fluent/tokens.js'
import { createTransport, type Transport, type TransportOptions } from '../../src/fluent/transport.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { ACCOUNT, newApiKey, tenantEntry } from '../helpers/gateway.js'

const ME: GraphqlRequest = { query: 'query Me { me { id username } }', operationName: 'Me', kind: 'query' }
const CREATE: GraphqlRequest = {
  query: 'mutation CreateCustomer($input: CreateCustomerInput) { createCustomer(input: $input) { id } }',
  variables: { input: { username: 'u@example.com', primaryEmail: 'u@example.com', timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' } } },
  operationName: 'CreateCustomer',
  kind: 'mutation'
}

function tenantAt (baseUrl: string): Tenant {
  const [tenant] = parseTenants({ tenants: [tenantEntry({ id: `t-${randomBytes(4).toString('hex')}`, apiKey: newApiKey() }, baseUrl)] })
  if (tenant === undefined) throw new Error('no tenant')
  return tenant
}

interface Harness {
  client: FluentClient
  transport: Transport
  outcomes: Array<{ operation: string, outcome: string }>
  circuit: Array<{ origin: string, state: CircuitState }>
  close: () => Promise<void>
}

/** A client as the fluent plugin builds it, with its own transport (so its own circuits) and a recording observer. */
function harness (client: Omit<Partial<FluentClientOptions>, 'transport' | 'tokens'> = {}, transportOptions: TransportOptions = {}): Harness {
  const outcomes: Harness['outcomes'] = []
  const circuit: Harness['circuit'] = []
  const transport = createTransport({ timeoutMs: client.timeoutMs ?? 5_000, ...transportOptions, observer: { circuit: (origin, state) => { circuit.push({ origin, state }) } } })
  const tokens = new TokenProvider({ fetchToken: async (tenant, refresh, signal) => await requestToken(transport, tenant, refresh, signal) })
  const fluent = createFluentClient({
    transport,
    tokens,
    timeoutMs: 5_000,
    ...client,
    observer: { upstream: (operation, outcome) => { outcomes.push({ operation, outcome }) } }
  })
  return { client: fluent, transport, outcomes, circuit, close: async () => { await fluent.close() } }
}

const context = (): { requestId: string, upstreamMs: number } => ({ requestId: `req-${randomBytes(4).toString('hex')}`, upstreamMs: 0 })

/** What the caller sees of a failed call: the typed error's code, status and Retry-After. */
async function failure (promise: Promise<unknown>): Promise<{ code?: string, statusCode?: number, retryAfterSeconds?: number }> {
  try {
    await promise
  } catch (error) {
    return error as { code?: string, statusCode?: number, retryAfterSeconds?: number }
  }
  throw new Error('expected the call to fail')
}

describe('graphqlBody', () => {
  it.each([
    ['a plain document, no variables, no name', 'query { me { id } }', undefined, undefined],
    ['quotes, backslashes, newlines and non-ASCII text, with variables and a name', 'query Q($s: String) {\n  a(s: "x\\"y") { b } # é ✓\n}', { s: 'line\nbreak "q"', n: [1, null, { deep: true }] }, 'Q'],
    ['empty variables and a name that needs escaping', 'query "odd" { a }', {}, 'name"with\\quote']
  ])('is byte for byte JSON.stringify of { query, variables, operationName }: %s', (_case, query, variables, operationName) => {
    const expected = JSON.stringify({ query, variables: variables ?? {}, ...(operationName === undefined ? {} : { operationName }) })
    // Twice: the second call takes the document's quoted form from the memo.
    expect(graphqlBody(query, variables, operationName)).toBe(expected)
    expect(graphqlBody(query, variables, operationName)).toBe(expected)
  })
})

describe('the Fluent client against the simulator', () => {
  let sim: Simulator
  let tenant: Tenant
  const open: Harness[] = []
  const make = (...args: Parameters<typeof harness>): Harness => {
    const made = harness(...args)
    open.push(made)
    return made
  }

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT] })
    tenant = tenantAt(sim.url)
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map(async (made) => { await made.close() }))
    sim.reset()
  })
  afterAll(async () => { await sim.close() })

  it('answers a query after a 503 with one retry, and forwards the request id on both attempts', async () => {
    const { client } = make()
    sim.faults.graphqlFailures.push({ status: 503 })
    const ctx = context()

    const answer = await client.data<{ me: { username: string } }>(tenant, ME, ctx)

    expect(answer.me.username).toBe(ACCOUNT.username)
    expect(sim.requests.map((request) => request.status)).toEqual([503, 200])
    expect(sim.requests.map((request) => request.headers['x-request-id'])).toEqual([ctx.requestId, ctx.requestId])
    expect(ctx.upstreamMs).toBeGreaterThan(0)
  })

  it('answers 502 UPSTREAM_SCHEMA_DRIFT at once, sending nothing, for an operation the schema check refuses', async () => {
    const { client, outcomes } = make({ refuses: (_tenant, operation) => operation === 'Me' ? 'Cannot query field "username" on type "User"' : undefined })

    expect(await failure(client.data(tenant, ME, context()))).toMatchObject({ code: 'UPSTREAM_SCHEMA_DRIFT', statusCode: 502 })
    expect(sim.requests).toHaveLength(0)
    expect(sim.counters.tokenRequests).toBe(0)
    expect(outcomes).toEqual([{ operation: 'Me', outcome: 'UPSTREAM_SCHEMA_DRIFT' }])
    // Keyed by the operation label when one is given (an operator route's operationId), else the operationName.
    const answer = await client.data<{ me: { username: string } }>(tenant, { ...ME, operation: 'whoAmI' }, context())
    expect(answer.me.username).toBe(ACCOUNT.username)
    expect(outcomes.at(-1)).toEqual({ operation: 'whoAmI', outcome: 'ok' })
  })

  it('sends a mutation once when Fluent answers 503, and answers 502 UPSTREAM_UNAVAILABLE', async () => {
    const { client } = make()
    sim.faults.graphqlFailures.push({ status: 503 })

    const error = await failure(client.data(tenant, CREATE, context()))

    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
    expect(sim.requests).toHaveLength(1)
  })

  it('waits out Fluent\'s Retry-After on a 429 to a query, within the deadline', async () => {
    const { client } = make({ timeoutMs: 5_000 })
    sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '1' } })

    await client.data(tenant, ME, context())

    const [first, second] = sim.requests
    expect(sim.requests.map((request) => request.status)).toEqual([429, 200])
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950)
  })

  it('answers 429 RATE_LIMITED at once, sending once, when Retry-After reaches past the deadline', async () => {
    const { client } = make({ timeoutMs: 2_000 })
    sim.faults.graphqlFailures.push({ status: 429, headers: { 'retry-after': '30' } })
    const started = performance.now()

    const error = await failure(client.data(tenant, ME, context()))

    expect(error).toMatchObject({ code: 'RATE_LIMITED', statusCode: 429, retryAfterSeconds: 30 })
    expect(sim.requests).toHaveLength(1)
    expect(performance.now() - started).toBeLessThan(1_500)
  })

  it('gives up after three attempts of a query that keeps failing with 502', async () => {
    const { client } = make()
    sim.faults.graphqlFailures.push({ status: 502, times: 5 })

    const error = await failure(client.data(tenant, ME, context()))

    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
    expect(sim.requests).toHaveLength(3)
  })

  it('answers 504 UPSTREAM_TIMEOUT at the deadline when Fluent hangs, with no second attempt', async () => {
    const { client, outcomes } = make({ timeoutMs: 800 })
    await client.data(tenant, ME, context())
    sim.faults.hang = true
    const started = performance.now()

    const error = await failure(client.data(tenant, ME, context()))

    const elapsed = performance.now() - started
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', statusCode: 504 })
    expect(elapsed).toBeGreaterThanOrEqual(750)
    expect(elapsed).toBeLessThan(800 + 1_000)
    expect(sim.requests).toHaveLength(2)
    expect(outcomes).toEqual([{ operation: 'Me', outcome: 'ok' }, { operation: 'Me', outcome: 'UPSTREAM_TIMEOUT' }])
  })

  describe('circuit breaker', () => {
    it('opens after consecutive failures, then fails fast with Retry-After without calling Fluent', async () => {
      const { client, circuit, outcomes } = make({}, { circuit: { failureThreshold: 3, coolDownMs: 5_000 } })
      sim.faults.graphqlFailures.push({ status: 500, times: 3 })
      for (let i = 0; i < 3; i++) await failure(client.data(tenant, CREATE, context()))
      expect(sim.requests).toHaveLength(3)
      const started = performance.now()

      const error = await failure(client.data(tenant, ME, context()))

      // At once: nothing is sent (a call to Fluent could take up to the 5 s deadline).
      expect(performance.now() - started).toBeLessThan(1_000)
      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
      expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(4)
      expect(error.retryAfterSeconds).toBeLessThanOrEqual(5)
      expect(sim.requests).toHaveLength(3)
      expect(circuit).toEqual([{ origin: sim.url, state: 'open' }])
      expect(outcomes.at(-1)).toEqual({ operation: 'Me', outcome: 'CIRCUIT_OPEN' })
    })

    it('does not open on failures that successes interrupt, nor on 4xx and 429 answers', async () => {
      const { client, circuit } = make({}, { circuit: { failureThreshold: 2, coolDownMs: 5_000 } })
      sim.faults.graphqlFailures.push(
        { status: 500 }, { status: 400 }, { status: 500 }, { status: 429 }, { status: 500 }, { status: 404 }
      )

      for (let i = 0; i < 6; i++) await failure(client.data(tenant, CREATE, context()))
      await client.data(tenant, ME, context())

      expect(sim.requests).toHaveLength(7)
      expect(circuit).toEqual([])
    })

    it('lets one probe through after the cool-down and closes when it succeeds', async () => {
      const { client, circuit } = make({}, { circuit: { failureThreshold: 2, coolDownMs: 600 } })
      sim.faults.graphqlFailures.push({ status: 503, times: 2 })
      await failure(client.data(tenant, CREATE, context()))
      await failure(client.data(tenant, CREATE, context()))
      await sleep(700)

      // The probe and a caller arriving while it is out (the probe takes 1 s; the caller comes 100 ms in): only the
      // probe reaches Fluent.
      sim.faults.graphqlDelayMs = 1_000
      const [probe, during] = await Promise.allSettled([
        client.data(tenant, ME, context()),
        sleep(100).then(async () => await client.data(tenant, ME, context()))
      ])

      expect(probe.status).toBe('fulfilled')
      expect(during).toMatchObject({ status: 'rejected', reason: { code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: 1 } })
      expect(sim.requests).toHaveLength(3)
      expect(circuit.map((change) => change.state)).toEqual(['open', 'half_open', 'closed'])
      await client.data(tenant, ME, context())
      expect(sim.requests).toHaveLength(4)
    })

    it('opens again for a whole cool-down when the probe fails', async () => {
      const { client, circuit } = make({}, { circuit: { failureThreshold: 2, coolDownMs: 600 } })
      sim.faults.graphqlFailures.push({ status: 503, times: 3 })
      await failure(client.data(tenant, CREATE, context()))
      await failure(client.data(tenant, CREATE, context()))
      await sleep(700)

      const probe = await failure(client.data(tenant, CREATE, context()))
      const next = await failure(client.data(tenant, ME, context()))

      expect(probe).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
      expect(next).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryAfterSeconds: 1 })
      expect(sim.requests).toHaveLength(3)
      expect(circuit.map((change) => change.state)).toEqual(['open', 'half_open', 'open'])
    })

    it('counts timeouts as failures, so a hung Fluent stops costing a deadline per call', async () => {
      const { client } = make({ timeoutMs: 2_000 }, { circuit: { failureThreshold: 2, coolDownMs: 5_000 } })
      await client.data(tenant, ME, context())
      sim.faults.hang = true
      await failure(client.data(tenant, CREATE, context()))
      await failure(client.data(tenant, CREATE, context()))
      const started = performance.now()

      const error = await failure(client.data(tenant, ME, context()))

      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
      // Well under the 2 s deadline a call to the hung Fluent would cost.
      expect(performance.now() - started).toBeLessThan(1_000)
      expect(sim.requests).toHaveLength(3)
    })

    it('keeps one circuit per origin: a dead origin does not stop calls to another', async () => {
      const other = await startSimulator({ accounts: [ACCOUNT] })
      try {
        const { client } = make({}, { circuit: { failureThreshold: 1, coolDownMs: 5_000 } })
        sim.faults.graphqlFailures.push({ status: 500 })
        await failure(client.data(tenant, CREATE, context()))
        expect(await failure(client.data(tenant, ME, context()))).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })

        const answer = await client.data<{ me: { username: string } }>(tenantAt(other.url), ME, context())

        expect(answer.me.username).toBe(ACCOUNT.username)
      } finally {
        await other.close()
      }
    })
  })
})

/** A stand-in Fluent whose GraphQL endpoint drops the connection after reading a request, for the first `drops` requests. */
async function droppingFluent (drops: number): Promise<{ url: string, graphqlRequests: () => number, close: () => Promise<void> }> {
  let seen = 0
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/oauth/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'token-1', token_type: 'bearer', expires_in: 3600 }))
        return
      }
      seen++
      // Received, maybe executed, never answered: the case where a retried mutation could run twice.
      if (seen <= drops) {
        req.socket.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { me: { id: '1', username: 'u' }, createCustomer: { id: '9' } } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    graphqlRequests: () => seen,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

describe('the Fluent client when connections drop', () => {
  it('retries a query whose connection dropped, and answers', async () => {
    const fluent = await droppingFluent(1)
    const { client, close } = harness()
    try {
      const answer = await client.data<{ me: { id: string } }>(tenantAt(fluent.url), ME, context())

      expect(answer.me.id).toBe('1')
      expect(fluent.graphqlRequests()).toBe(2)
    } finally {
      await close()
      await fluent.close()
    }
  })

  it('never retries a mutation whose connection dropped after it was sent, answering 502', async () => {
    const fluent = await droppingFluent(1)
    const { client, close } = harness()
    try {
      const error = await failure(client.data(tenantAt(fluent.url), CREATE, context()))

      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
      expect(fluent.graphqlRequests()).toBe(1)
    } finally {
      await close()
      await fluent.close()
    }
  })

  it('answers 502 fast when nothing listens at Fluent\'s address', async () => {
    const fluent = await droppingFluent(0)
    const url = fluent.url
    await fluent.close()
    const { client, close } = harness()
    try {
      const started = performance.now()
      const error = await failure(client.data(tenantAt(url), ME, context()))

      expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', statusCode: 502 })
      expect(performance.now() - started).toBeLessThan(2_000)
    } finally {
      await close()
    }
  })
})
