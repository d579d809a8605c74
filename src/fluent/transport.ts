// HTTP to Fluent: one undici keep-alive pool and one circuit breaker per origin, every call bounded by the caller's deadline.
import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import { Agent } from '../undici-agent.js'
import { CircuitBreaker, type CircuitOptions, type CircuitState } from './circuit.js'

/** Hooks the transport reports to, beside the client's FluentObserver (metrics attach here). */
export interface TransportObserver {
  /** An origin's circuit changed state. */
  circuit?: (origin: string, state: CircuitState) => void
}

export interface TransportOptions {
  /** Most sockets kept open to one Fluent origin; a hung Fluent can hold no more than this many. */
  connectionsPerOrigin?: number
  /** How long a TCP (and TLS) connect may take. */
  connectTimeoutMs?: number
  /** The whole-call deadline (FLUENT_TIMEOUT_MS): no socket waits longer than this for headers or body. */
  timeoutMs?: number
  circuit?: Omit<CircuitOptions, 'onChange'>
  /** Told when an origin's circuit opens, half-opens or closes (metrics). */
  observer?: TransportObserver
  log?: { warn: (object: object, message: string) => void, info: (object: object, message: string) => void }
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export interface Transport {
  /** Throws the circuit's typed 502 without sending anything while the origin's circuit is open. */
  request: (method: 'GET' | 'POST' | 'PUT', url: string, headers: Record<string, string>, body: string | Buffer | undefined, signal: AbortSignal) => Promise<HttpAnswer>
  close: () => Promise<void>
}

/**
 * Collects one answer's status, headers and whole body for undici's dispatch(): what agent.request() and body.text()
 * gave, without the per-call async resource, body stream and promise they put in between (several process.nextTick
 * turns per call, each a few thousand instructions, in the profile).
 */
class TextAnswer implements Dispatcher.DispatchHandler {
  #status = 0
  #headers: IncomingHttpHeaders = {}
  #chunks: Buffer[] = []
  #controller: Dispatcher.DispatchController | undefined
  readonly #signal: AbortSignal
  readonly #resolve: (answer: HttpAnswer) => void
  readonly #reject: (error: Error) => void
  readonly #onAbort = (): void => { this.#controller?.abort(this.#signal.reason as Error) }

  constructor (signal: AbortSignal, resolve: (answer: HttpAnswer) => void, reject: (error: Error) => void) {
    this.#signal = signal
    this.#resolve = resolve
    this.#reject = reject
    signal.addEventListener('abort', this.#onAbort)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    // Aborted before a socket was free: the request is never written.
    if (this.#signal.aborted) controller.abort(this.#signal.reason as Error)
  }

  /** Called once more for the final answer after any 1xx interim one, which it replaces. */
  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode
    this.#headers = headers
    this.#chunks = []
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk)
  }

  onResponseEnd (): void {
    this.#signal.removeEventListener('abort', this.#onAbort)
    const chunks = this.#chunks
    const [first] = chunks
    const text = (chunks.length === 1 && first !== undefined ? first : Buffer.concat(chunks)).toString('utf8')
    // As body.text() did: a UTF-8 byte order mark is not part of the text.
    this.#resolve({ status: this.#status, headers: this.#headers, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text })
  }

  onResponseError (_controller: Dispatcher.DispatchController, error: Error): void {
    this.#signal.removeEventListener('abort', this.#onAbort)
    this.#reject(error)
  }
}

export function createTransport (options: TransportOptions = {}): Transport {
  const timeoutMs = options.timeoutMs ?? 15_000
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 128,
    connect: { timeout: Math.min(options.connectTimeoutMs ?? 5_000, timeoutMs) },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    // Every call carries a deadline signal (the client's, or the token fetch's AbortSignal.timeout), and that alone
    // bounds it. undici's own header and body timers are off: they are its coarse "fast timers", a new one per
    // request, which outlive the request by up to a second, so under load each one was garbage promoted to the old
    // generation (and CPU spent arming and clearing it).
    headersTimeout: 0,
    bodyTimeout: 0
  })
  const { log, observer } = options
  const breaker = new CircuitBreaker({
    ...options.circuit,
    onChange (origin, state) {
      if (state === 'open') log?.warn({ origin, circuit: state }, 'Fluent keeps failing: calls to it now fail fast until a probe succeeds')
      else log?.info({ origin, circuit: state }, state === 'closed' ? 'Fluent answers again: circuit closed' : 'probing Fluent')
      observer?.circuit?.(origin, state)
    }
  })
  // A tenant's base URL is the prefix of every URL it calls: its origin is parsed once, not once per call (undici's
  // request(url) would build a URL object every time); the path is what follows that prefix.
  const origins = new Map<string, string>()
  const target = (url: string): { origin: string, path: string } => {
    const end = url.indexOf('/', url.indexOf('//') + 2)
    const head = end === -1 ? url : url.slice(0, end)
    let origin = origins.get(head)
    if (origin === undefined) {
      origin = new URL(head).origin
      origins.set(head, origin)
    }
    return { origin, path: end === -1 ? '/' : url.slice(end) }
  }

  return {
    async request (method, url, headers, body, signal) {
      const { origin, path } = target(url)
      breaker.admit(origin)
      let answer: HttpAnswer
      try {
        answer = await new Promise<HttpAnswer>((resolve, reject) => {
          agent.dispatch({ origin, path, method, headers, body }, new TextAnswer(signal, resolve, reject))
        })
      } catch (error) {
        // Connection errors and deadline aborts alike: Fluent did not answer.
        breaker.failed(origin)
        throw error
      }
      if (answer.status >= 500) breaker.failed(origin)
      else breaker.succeeded(origin)
      return answer
    },
    async close () {
      await agent.close()
    }
  }
}
