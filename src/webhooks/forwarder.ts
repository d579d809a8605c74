// Pushes stored webhooks to each tenant's forwardUrl: one consumer group per tenant stream, so one replica delivers each.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { Agent } from '../undici-agent.js'
import { redisErrorSummary } from '../redis/connection.js'
import { FORWARD_GROUP } from './keys.js'
import { toOutboxEntry, type OutboxEntry, type StreamEntry, type WebhookOutbox } from './outbox.js'
import { forwardSignature } from './signature.js'

interface Logger {
  warn: (object: object, message: string) => void
  info: (object: object, message: string) => void
  error: (object: object, message: string) => void
}

export interface ForwardTarget {
  tenant: string
  url: string
  secret: string
}

export interface ForwarderObserver {
  forwarded: (tenant: string) => void
  /** One failed attempt (`http_<status>`, `network`) or a delivery given up at the end of the retention (`expired`). */
  failed: (tenant: string, reason: string) => void
}

export interface ForwarderTimings {
  /** An entry pending on a consumer untouched for this long is taken over (its replica died). */
  claimIdleMs: number
  /** How often each tenant's stream is read for new and abandoned entries (a stored event also wakes its replica at once). */
  pollMs?: number
  /** First back-off ceiling after a failed attempt; doubles per attempt up to maxDelayMs (full jitter: a random delay below it). */
  baseDelayMs?: number
  maxDelayMs?: number
  /** Deliveries in flight per tenant per replica. */
  concurrency?: number
  /** One POST to forwardUrl may take this long. */
  attemptTimeoutMs?: number
}

interface Held {
  entry: OutboxEntry
  attempt: number
  /** Posted and answered 2xx, but the outbox has not recorded it yet (Redis failed): only that is retried. */
  delivered: boolean
  timer?: NodeJS.Timeout
  controller?: AbortController
}

interface TenantState {
  target: ForwardTarget
  stream: string
  held: Map<string, Held>
  claimCursor: string
  reading: boolean
  again: boolean
  groupReady: boolean
  failing: boolean
}

/** KEYS: stream. ARGV: group, consumer. Deletes the consumer only when nothing is pending on it. */
const DROP_IDLE_CONSUMER = `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1`

/** Full jitter: a uniformly random delay below min(max, base × 2^attempt) (AWS architecture blog, "Exponential Backoff And Jitter"). */
function backoffDelay (attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1)))
}

export class WebhookForwarder {
  readonly consumer = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
  readonly #outbox: WebhookOutbox
  readonly #tenants = new Map<string, TenantState>()
  readonly #log: Logger
  readonly #observer: ForwarderObserver
  readonly #claimIdleMs: number
  readonly #pollMs: number
  readonly #baseDelayMs: number
  readonly #maxDelayMs: number
  readonly #concurrency: number
  readonly #attemptTimeoutMs: number
  readonly #agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 })
  readonly #inFlight = new Set<Promise<void>>()
  #poll: NodeJS.Timeout | undefined
  #heartbeat: NodeJS.Timeout | undefined
  #stopped = false

  constructor (outbox: WebhookOutbox, targets: ForwardTarget[], timings: ForwarderTimings, log: Logger, observer: ForwarderObserver) {
    this.#outbox = outbox
    this.#log = log
    this.#observer = observer
    this.#claimIdleMs = timings.claimIdleMs
    this.#pollMs = timings.pollMs ?? 1_000
    this.#baseDelayMs = timings.baseDelayMs ?? 1_000
    this.#maxDelayMs = timings.maxDelayMs ?? 300_000
    this.#concurrency = timings.concurrency ?? 8
    this.#attemptTimeoutMs = timings.attemptTimeoutMs ?? 10_000
    for (const target of targets) {
      this.#tenants.set(target.tenant, {
        target, stream: outbox.keys(target.tenant).stream, held: new Map(), claimCursor: '0-0', reading: false, again: false, groupReady: false, failing: false
      })
    }
  }

  start (): void {
    if (this.#tenants.size === 0) return
    this.#poll = setInterval(() => { for (const tenant of this.#tenants.keys()) this.kick(tenant) }, this.#pollMs)
    // Entries being retried here must not look abandoned to the other replicas: touch them well within the idle time.
    this.#heartbeat = setInterval(() => { this.#touchHeld() }, Math.max(250, Math.floor(this.#claimIdleMs / 3)))
    this.#poll.unref()
    this.#heartbeat.unref()
    for (const tenant of this.#tenants.keys()) this.kick(tenant)
  }

  /** Reads the tenant's stream now (a webhook was just stored); a read under way reads again when it ends. */
  kick (tenant: string): void {
    const state = this.#tenants.get(tenant)
    if (state === undefined || this.#stopped) return
    if (state.reading) {
      state.again = true
      return
    }
    state.reading = true
    this.#read(state).catch((error: unknown) => { this.#redisFailed(state, error) }).finally(() => {
      state.reading = false
      if (state.again && !this.#stopped) {
        state.again = false
        this.kick(tenant)
      }
    })
  }

  /** Stops reading, cancels attempts in flight and waits for them; what was not delivered stays pending for another replica. */
  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#poll)
    clearInterval(this.#heartbeat)
    for (const state of this.#tenants.values()) {
      for (const held of state.held.values()) {
        clearTimeout(held.timer)
        held.controller?.abort()
      }
    }
    await Promise.allSettled([...this.#inFlight])
    await this.#agent.close()
    // Leave the group tidy: drop this consumer where it holds nothing. Checked inside Redis, since a read whose answer
    // was lost (a timeout) can leave entries pending here that this process never saw, and deleting the consumer would
    // drop them from the group; those stay, and another replica claims them.
    await Promise.allSettled([...this.#tenants.values()].filter((state) => state.groupReady).map(async (state) =>
      await this.#outbox.client().eval(DROP_IDLE_CONSUMER, 1, state.stream, FORWARD_GROUP, this.consumer)))
  }

  async #read (state: TenantState): Promise<void> {
    const client = this.#outbox.client()
    if (!state.groupReady) {
      // From the stream's start ('0'): events stored before any replica forwarded are delivered too.
      try {
        await client.xgroup('CREATE', state.stream, FORWARD_GROUP, '0', 'MKSTREAM')
      } catch (error) {
        if (!String((error as Error).message).includes('BUSYGROUP')) throw error
      }
      state.groupReady = true
    }
    try {
      let free = this.#concurrency - state.held.size
      if (free > 0) {
        const [cursor, claimed] = await client.xautoclaim(state.stream, FORWARD_GROUP, this.consumer, this.#claimIdleMs, state.claimCursor, 'COUNT', free) as [string, StreamEntry[], string[]?]
        state.claimCursor = cursor
        for (const entry of claimed) this.#take(state, entry)
        if (claimed.length > 0) this.#log.info({ tenant: state.target.tenant, entries: claimed.length }, 'took over webhooks abandoned by another replica')
      }
      free = this.#concurrency - state.held.size
      if (free > 0) {
        const answer = await client.xreadgroup('GROUP', FORWARD_GROUP, this.consumer, 'COUNT', free, 'STREAMS', state.stream, '>') as Array<[string, StreamEntry[]]> | null
        const entries = answer?.[0]?.[1] ?? []
        for (const entry of entries) this.#take(state, entry)
        if (entries.length === free) state.again = true
      }
    } catch (error) {
      // The stream expired (no event for a whole retention) and took its group with it.
      if (String((error as Error).message).includes('NOGROUP')) state.groupReady = false
      throw error
    }
    if (state.failing) {
      state.failing = false
      this.#log.info({ tenant: state.target.tenant }, 'webhook forwarding reads Redis again')
    }
  }

  #take (state: TenantState, raw: StreamEntry): void {
    const entry = toOutboxEntry(raw)
    if (entry === null) {
      // Acked through the outbox (or trimmed) while pending here: nothing left to deliver.
      this.#outbox.client().xack(state.stream, FORWARD_GROUP, raw[0]).catch(() => {})
      return
    }
    if (state.held.has(entry.entryId)) return
    const held: Held = { entry, attempt: 0, delivered: false }
    state.held.set(entry.entryId, held)
    this.#attempt(state, held)
  }

  #attempt (state: TenantState, held: Held): void {
    if (this.#stopped) return
    const work = this.#deliver(state, held).catch((error: unknown) => {
      this.#log.error({ tenant: state.target.tenant, err: redisErrorSummary(error) }, 'webhook forwarding failed unexpectedly')
    })
    this.#inFlight.add(work)
    work.finally(() => this.#inFlight.delete(work)).catch(() => {})
  }

  async #deliver (state: TenantState, held: Held): Promise<void> {
    const { tenant } = state.target
    const { entry } = held
    const age = Date.now() - Date.parse(entry.receivedAt)
    if (!held.delivered && age > this.#outbox.retentionMs) {
      // Retention over: stop trying; the entry leaves the outbox with the next trim.
      this.#observer.failed(tenant, 'expired')
      this.#log.error({ tenant, eventId: entry.id, attempts: held.attempt }, 'webhook not forwarded within the retention: giving up')
      state.held.delete(entry.entryId)
      await this.#outbox.client().xack(state.stream, FORWARD_GROUP, entry.entryId).catch(() => {})
      return
    }
    if (held.attempt > 0 && !held.delivered && !await this.#stillStored(state, entry)) {
      // Acked through GET /webhook-events meanwhile: the legacy system has it, stop pushing.
      state.held.delete(entry.entryId)
      return
    }
    held.attempt++
    if (!held.delivered) {
      const outcome = await this.#post(state.target, entry, held)
      if (this.#stopped) return
      if (outcome !== 'ok') {
        this.#observer.failed(tenant, outcome)
        const delay = backoffDelay(held.attempt, this.#baseDelayMs, this.#maxDelayMs)
        this.#log.warn({ tenant, eventId: entry.id, attempt: held.attempt, outcome, retryInMs: delay }, 'webhook forward failed; retrying')
        this.#retryLater(state, held, delay)
        return
      }
      held.delivered = true
      this.#observer.forwarded(tenant)
    }
    try {
      await this.#outbox.forwarded(tenant, entry)
    } catch (error) {
      // Delivered, not yet recorded: retry only the record, never the POST.
      this.#redisFailed(state, error)
      this.#retryLater(state, held, backoffDelay(held.attempt, this.#baseDelayMs, this.#maxDelayMs))
      return
    }
    state.held.delete(entry.entryId)
    // A slot is free: take the next entry without waiting for the poll.
    this.kick(tenant)
  }

  /** Whether the entry is still in the outbox; true when Redis cannot tell (pushing twice beats not pushing). */
  async #stillStored (state: TenantState, entry: OutboxEntry): Promise<boolean> {
    try {
      const found = await this.#outbox.client().xrange(state.stream, entry.entryId, entry.entryId)
      if (found.length === 0) await this.#outbox.client().xack(state.stream, FORWARD_GROUP, entry.entryId)
      return found.length > 0
    } catch {
      return true
    }
  }

  #retryLater (state: TenantState, held: Held, delayMs: number): void {
    held.timer = setTimeout(() => {
      held.timer = undefined
      this.#attempt(state, held)
    }, delayMs)
  }

  async #post (target: ForwardTarget, entry: OutboxEntry, held: Held): Promise<string> {
    held.controller = new AbortController()
    try {
      const url = new URL(target.url)
      const answer = await this.#agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature': forwardSignature(target.secret, entry.body),
          'idempotency-key': entry.id,
          'user-agent': 'fluent-rest-gateway'
        },
        body: entry.body,
        signal: AbortSignal.any([held.controller.signal, AbortSignal.timeout(this.#attemptTimeoutMs)])
      })
      await answer.body.dump()
      return answer.statusCode >= 200 && answer.statusCode < 300 ? 'ok' : `http_${answer.statusCode}`
    } catch {
      return 'network'
    } finally {
      held.controller = undefined
    }
  }

  #touchHeld (): void {
    if (this.#stopped) return
    for (const state of this.#tenants.values()) {
      const ids = [...state.held.keys()]
      if (ids.length === 0) continue
      // Idle 0 and JUSTID: only resets the entries' idle time; they stay this consumer's.
      this.#outbox.client().xclaim(state.stream, FORWARD_GROUP, this.consumer, 0, ...ids, 'JUSTID').catch((error: unknown) => { this.#redisFailed(state, error) })
    }
  }

  #redisFailed (state: TenantState, error: unknown): void {
    if (state.failing || this.#stopped) return
    state.failing = true
    this.#log.warn({ tenant: state.target.tenant, err: redisErrorSummary(error) }, 'webhook forwarding cannot read Redis; retrying')
  }
}
