// The rate limit's counts: each process counts in memory and shares its counts through Redis every sync interval.
import type { RedisConnection } from './connection.js'

/**
 * Adds one replica's hits since its last flush to the key's shared fixed window and answers [total of every replica,
 * ms left]. The first hits of a window start its expiry; a key that somehow lost its expiry gets one.
 */
const FLUSH_SCRIPT = `
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {total, ttl}`

interface FlushCommand {
  fgwRateLimitFlush: (key: string, hits: number, windowMs: number) => Promise<[number, number]>
}

export interface Count {
  current: number
  ttl: number
}
/** Answered with the key's count; the counts live in memory, so there is no error to report. */
export type Callback = (count: Count) => void

/** What this process knows of one key's current window. A window that ends is replaced by a new object, never reset. */
interface Window {
  /** Every replica's total as Redis last answered it (this replica's sent hits included); this replica's own count while Redis could not tell. */
  known: number
  /** Hits counted here and not sent yet. */
  pending: number
  /** Hits of the flush under way: still counted here until its answer folds them into `known`. */
  sending: number
  /** Date.now() at which the window ends: Redis's PTTL once it answered, a local guess before. */
  end: number
  /** Whether `known` came from Redis in this window. */
  shared: boolean
  readonly windowMs: number
  readonly max: number
  /** The flush under way, if any: one per key at a time. */
  flush: Promise<void> | undefined
  /** Set while the first round trip of the window runs: requests arriving meanwhile wait for it too. */
  learning: boolean
}

/**
 * The counts behind the limit. incr() answers from this process's view, `known + sending + pending`, with no I/O: the
 * hot path costs a Map lookup. A timer (start()) flushes every key with pending hits to Redis, one EVALSHA per key, and
 * the answer replaces `known`, so the view becomes every replica's total plus what arrived here since.
 *
 * The one request that may wait on Redis is the first of a key's window in this process, and only while Redis is up
 * (at most the command timeout): it learns the shared total and expiry at once, so a fresh replica, or every replica as
 * a new window opens, does not grant a budget of its own. Requests for that key arriving meanwhile wait for the same
 * round trip; once it answers (or fails) the key is local until its window ends.
 *
 * Overshoot: a replica sees the hits of the others only when its own flush answers, so once the budget is used up each
 * replica may still grant what it receives for that key in one sync interval (plus a Redis round trip) before it
 * learns. The budget can be overshot by at most replicas × rate × RATE_LIMIT_SYNC_MS, and never by more than
 * (replicas - 1) × max, since every replica's view includes all of its own hits.
 *
 * Redis down (or a flush failing): each replica goes on counting on its own, so it alone enforces the limit, and
 * flushes resume once the health probe sees Redis back. No Redis at all: purely local, and no timer.
 *
 * Memory: only authenticated keys reach the store (see keyGenerator), so there is at most one entry per configured API
 * key; the timer also drops windows that have ended.
 */
export class SharedWindows {
  readonly #windows = new Map<string, Window>()
  readonly #connection: RedisConnection | undefined
  readonly #command: FlushCommand | undefined
  readonly #prefix: string
  #timer: NodeJS.Timeout | undefined

  constructor (connection: RedisConnection | undefined, prefix: string) {
    this.#connection = connection
    this.#prefix = prefix
    if (connection !== undefined) {
      const { client } = connection
      if (!('fgwRateLimitFlush' in client)) client.defineCommand('fgwRateLimitFlush', { numberOfKeys: 1, lua: FLUSH_SCRIPT })
      this.#command = client as unknown as FlushCommand
    }
  }

  incr (key: string, callback: Callback, windowMs: number, max: number): void {
    const now = Date.now()
    let window = this.#windows.get(key)
    if (window === undefined || window.end <= now) {
      window = { known: 0, pending: 0, sending: 0, end: now + windowMs, shared: false, windowMs, max, flush: undefined, learning: false }
      this.#windows.set(key, window)
      if (this.#connection?.health.usable() === true) {
        window.pending = 1
        window.learning = true
        const learned = window
        // This hit is the one sent: it sits at position 0 of what the answer's total covers.
        this.#send(key, learned).then(() => { callback(this.#countAt(learned, 0)) })
        return
      }
    }
    window.pending++
    if (window.learning && window.flush !== undefined) {
      // Its place after the hit being sent, so concurrent first requests of a window still count up one by one.
      const position = window.pending
      const learning = window
      window.flush.then(() => { callback(this.#countAt(learning, position)) })
      return
    }
    callback({ current: window.known + window.sending + window.pending, ttl: window.end - now })
  }

  /** Sends every key's pending hits to Redis and folds the totals in; skipped while Redis is known down. */
  async flush (): Promise<void> {
    const now = Date.now()
    const sends: Array<Promise<void>> = []
    const usable = this.#connection?.health.usable() === true
    for (const [key, window] of this.#windows) {
      // An ended window's unsent hits belong to a window nobody counts any more.
      if (window.end <= now) {
        this.#windows.delete(key)
        continue
      }
      if (!usable || window.pending === 0 || window.flush !== undefined) continue
      // Once the shared total has reached the limit every replica that flushes refuses until the window ends: more hits change nothing.
      if (window.shared && window.known >= window.max) continue
      sends.push(this.#send(key, window))
    }
    await Promise.all(sends)
  }

  /** Flushes every `intervalMs`; unref'd, so it never keeps the process alive. Without Redis there is nothing to flush. */
  start (intervalMs: number): void {
    if (this.#command === undefined || this.#timer !== undefined) return
    this.#timer = setInterval(() => { this.flush() }, intervalMs)
    this.#timer.unref()
  }

  /**
   * Stops the timer. Hits still pending are not sent: Redis closes in the same shutdown, and a last flush could hold it
   * up by a command timeout for at most one sync interval of hits, which the overshoot bound already allows.
   */
  stop (): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** The count of the hit at `position` after the learning round trip's hit, once its answer is in `known`. */
  #countAt (window: Window, position: number): Count {
    return { current: window.known + position, ttl: Math.max(0, window.end - Date.now()) }
  }

  /** One round trip for the key; never rejects, so neither the timer nor a waiting request sees a Redis error. */
  async #send (key: string, window: Window): Promise<void> {
    const { health } = this.#connection as RedisConnection
    const hits = window.pending
    window.pending = 0
    window.sending = hits
    window.flush = (this.#command as FlushCommand).fgwRateLimitFlush(`${this.#prefix}${key}`, hits, window.windowMs).then(([total, ttl]) => {
      health.succeeded()
      window.known = total
      window.end = Date.now() + ttl
      window.shared = true
    }, (error: Error) => {
      health.failed(error)
      // Redis may or may not have counted them (a timed-out command can still run): keeping them here, never sending them
      // again, keeps this replica's own count whole while it is on its own, and never counts a hit twice in Redis; the
      // next answer's total is the truth again.
      window.known += hits
    }).finally(() => {
      window.sending = 0
      window.flush = undefined
      window.learning = false
    })
    await window.flush
  }
}
