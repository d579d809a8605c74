// The webhook outbox over Redis Streams: store once per event id (atomically with its de-duplication key), page, ack.
import type { Cluster, Redis } from 'ioredis'
import { redisErrorSummary, type RedisConnection } from '../redis/connection.js'
import { FORWARD_GROUP, outboxKeys, type OutboxKeys } from './keys.js'

/**
 * KEYS: stream, event key. ARGV: event id, body, retention (s), MINID threshold (ms).
 * The event key is both the de-duplication mark and the way from an event id to its entry; written in the same script
 * as the XADD, so a crash can leave neither an entry without its mark (a retry would store it twice) nor the reverse
 * (a retry would be answered "duplicate" for an event that was never stored). The stream itself expires a retention
 * after its last event, and MINID trims older entries on every add.
 */
const STORE_SCRIPT = `
local known = redis.call('GET', KEYS[2])
if known then return {0, known} end
local entry = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[4], '*', 'id', ARGV[1], 'event', ARGV[2])
redis.call('SET', KEYS[2], entry, 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, entry}`

/**
 * KEYS: stream, event key. ARGV: forward group. Removes the event's entry (1) or answers 0 when it is not in the
 * outbox (never stored, acked already, or trimmed). The mark stays, as 'acked', so a late retry from Fluent is still
 * recognised as a duplicate; the forwarding group lets go of the entry too, if it held it.
 */
const ACK_SCRIPT = `
local entry = redis.call('GET', KEYS[2])
if not entry or entry == 'acked' then return 0 end
local removed = redis.call('XDEL', KEYS[1], entry)
redis.pcall('XACK', KEYS[1], ARGV[1], entry)
redis.call('SET', KEYS[2], 'acked', 'KEEPTTL')
return removed`

/** KEYS: stream, event key. ARGV: forward group, entry id. After a 2xx from forwardUrl: done for the group and gone from the outbox. */
const FORWARDED_SCRIPT = `
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('SET', KEYS[2], 'acked', 'KEEPTTL') end
return 1`

interface OutboxCommands {
  fgwWebhookStore: (stream: string, event: string, id: string, body: string, retentionS: number, minId: number) => Promise<[number, string]>
  fgwWebhookAck: (stream: string, event: string, group: string) => Promise<number>
  fgwWebhookForwarded: (stream: string, event: string, group: string, entryId: string) => Promise<number>
}

export type RedisClient = (Redis | Cluster) & OutboxCommands

/** Redis could not take or give the outbox (down, timed out, or not configured): the caller answers 503. */
export class OutboxUnavailableError extends Error {
  override name = 'OutboxUnavailableError'
}

export interface OutboxEntry {
  /** The stream entry id: the outbox cursor. */
  entryId: string
  /** Fluent's event id. */
  id: string
  /** When the gateway stored it (the entry id's time), ISO 8601. */
  receivedAt: string
  /** The event's raw JSON text, as Fluent signed it. */
  body: string
}

export type StreamEntry = [entryId: string, fields: string[] | null]

/** An XRANGE/XREADGROUP entry as the outbox writes it; null for an entry deleted since it was read. */
export function toOutboxEntry ([entryId, fields]: StreamEntry): OutboxEntry | null {
  if (fields === null) return null
  let id: string | undefined
  let body: string | undefined
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === 'id') id = fields[index + 1]
    else if (fields[index] === 'event') body = fields[index + 1]
  }
  if (id === undefined || body === undefined) return null
  return { entryId, id, receivedAt: new Date(Number(entryId.split('-')[0])).toISOString(), body }
}

/** An outbox cursor is a stream entry id. */
export const ENTRY_ID = /^\d{1,20}-\d{1,20}$/

export class WebhookOutbox {
  readonly #connection: RedisConnection | undefined
  readonly #prefix: string
  readonly #retentionS: number
  readonly #keys = new Map<string, OutboxKeys>()

  constructor (connection: RedisConnection | undefined, prefix: string, retentionS: number) {
    this.#connection = connection
    this.#prefix = prefix
    this.#retentionS = retentionS
    const client = connection?.client
    if (client !== undefined && !('fgwWebhookStore' in client)) {
      client.defineCommand('fgwWebhookStore', { numberOfKeys: 2, lua: STORE_SCRIPT })
      client.defineCommand('fgwWebhookAck', { numberOfKeys: 2, lua: ACK_SCRIPT })
      client.defineCommand('fgwWebhookForwarded', { numberOfKeys: 2, lua: FORWARDED_SCRIPT })
    }
  }

  get retentionMs (): number {
    return this.#retentionS * 1000
  }

  keys (tenant: string): OutboxKeys {
    let keys = this.#keys.get(tenant)
    if (keys === undefined) {
      keys = outboxKeys(this.#prefix, tenant)
      this.#keys.set(tenant, keys)
    }
    return keys
  }

  /** The Redis client, or OutboxUnavailableError when there is none. */
  client (): RedisClient {
    const client = this.#connection?.client
    if (client === undefined) throw new OutboxUnavailableError('no Redis is configured: webhooks cannot be stored')
    return client as RedisClient
  }

  async #run<T> (work: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.client()
    try {
      const result = await work(client)
      this.#connection?.health.succeeded()
      return result
    } catch (error) {
      this.#connection?.health.failed(error)
      // The summary, not the error: ioredis attaches the command and its arguments (the event body) to it.
      throw new OutboxUnavailableError(`Redis did not take the outbox command: ${(error as Error).message}`, { cause: redisErrorSummary(error) })
    }
  }

  /** Stores the event unless its id was stored within the retention; resolves only once Redis has it. */
  async store (tenant: string, id: string, body: string): Promise<{ entryId: string, duplicate: boolean }> {
    const keys = this.keys(tenant)
    const [added, entryId] = await this.#run(async (client) =>
      await client.fgwWebhookStore(keys.stream, keys.event(id), id, body, this.#retentionS, Date.now() - this.retentionMs))
    return { entryId, duplicate: added === 0 }
  }

  /** Up to `limit` events after the cursor, oldest first, and the cursor of the next page (null on the last). */
  async list (tenant: string, after: string | undefined, limit: number): Promise<{ items: OutboxEntry[], nextCursor: string | null }> {
    const { stream } = this.keys(tenant)
    const entries = await this.#run(async (client) =>
      await client.xrange(stream, after === undefined ? '-' : `(${after}`, '+', 'COUNT', limit + 1) as StreamEntry[])
    const items = entries.slice(0, limit).map(toOutboxEntry).filter((entry) => entry !== null)
    const last = items.at(-1)
    return { items, nextCursor: entries.length > limit && last !== undefined ? last.entryId : null }
  }

  /** Removes the event from the outbox; false when it is not there. */
  async ack (tenant: string, id: string): Promise<boolean> {
    const keys = this.keys(tenant)
    return await this.#run(async (client) => await client.fgwWebhookAck(keys.stream, keys.event(id), FORWARD_GROUP)) === 1
  }

  /** After forwardUrl answered 2xx: the group is done with the entry and it leaves the outbox. */
  async forwarded (tenant: string, entry: OutboxEntry): Promise<void> {
    const keys = this.keys(tenant)
    await this.#run(async (client) => await client.fgwWebhookForwarded(keys.stream, keys.event(entry.id), FORWARD_GROUP, entry.entryId))
  }

  async length (tenant: string): Promise<number> {
    return await this.#run(async (client) => await client.xlen(this.keys(tenant).stream))
  }
}
