// Circuit breaker per Fluent origin: after consecutive failures, calls fail fast for a cool-down, then one probe decides.
import { UpstreamUnavailableError, withExtras } from '../errors.js'

export type CircuitState = 'closed' | 'open' | 'half_open'

export interface CircuitOptions {
  /** Consecutive failures (connection errors, 5xx, timeouts) that open the circuit. */
  failureThreshold?: number
  /** How long an open circuit refuses calls before it lets one probe through. */
  coolDownMs?: number
  /** Told of every state change, e.g. to log it and count open circuits. */
  onChange?: (origin: string, state: CircuitState) => void
}

interface Circuit {
  state: CircuitState
  failures: number
  /** While open: when the next probe may go. */
  retryAt: number
}

/** Marks the errors thrown for an open circuit: nothing was sent, so callers neither retry nor count them. */
const OPEN_CIRCUIT_ERRORS = new WeakSet<Error>()

export function isCircuitOpenError (error: unknown): boolean {
  return error instanceof Error && OPEN_CIRCUIT_ERRORS.has(error)
}

export class CircuitBreaker {
  readonly #threshold: number
  readonly #coolDownMs: number
  readonly #onChange: ((origin: string, state: CircuitState) => void) | undefined
  readonly #circuits = new Map<string, Circuit>()

  constructor (options: CircuitOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5
    this.#coolDownMs = options.coolDownMs ?? 10_000
    this.#onChange = options.onChange
  }

  /**
   * Throws a typed 502 with Retry-After while the origin's circuit is open; once the cool-down is over it lets exactly
   * one call through as the probe (the others keep failing fast until that probe has answered).
   */
  admit (origin: string): void {
    const circuit = this.#circuits.get(origin)
    if (circuit === undefined || circuit.state === 'closed') return
    const now = Date.now()
    if (circuit.state === 'open' && now >= circuit.retryAt) {
      this.#set(origin, circuit, 'half_open')
      return
    }
    // While the probe is out the answer is near, so callers are told to come back soon.
    const waitMs = circuit.state === 'open' ? circuit.retryAt - now : 1_000
    const error = withExtras(
      new UpstreamUnavailableError(`Fluent failed ${this.#threshold} times in a row; the gateway is not calling it for a few seconds`),
      { retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) }
    )
    OPEN_CIRCUIT_ERRORS.add(error)
    throw error
  }

  /** Fluent answered (any status below 500): the origin is alive. */
  succeeded (origin: string): void {
    const circuit = this.#circuits.get(origin)
    if (circuit === undefined) return
    circuit.failures = 0
    if (circuit.state !== 'closed') this.#set(origin, circuit, 'closed')
  }

  /** A connection error, a 5xx or a timeout. */
  failed (origin: string): void {
    let circuit = this.#circuits.get(origin)
    if (circuit === undefined) {
      circuit = { state: 'closed', failures: 0, retryAt: 0 }
      this.#circuits.set(origin, circuit)
    }
    circuit.failures++
    // A failed probe reopens at once; a closed circuit opens at the threshold. Failures of calls that were already in
    // flight when the circuit opened do not push the probe further away.
    if (circuit.state === 'half_open' || (circuit.state === 'closed' && circuit.failures >= this.#threshold)) {
      circuit.retryAt = Date.now() + this.#coolDownMs
      this.#set(origin, circuit, 'open')
    }
  }

  #set (origin: string, circuit: Circuit, state: CircuitState): void {
    circuit.state = state
    this.#onChange?.(origin, state)
  }
}
