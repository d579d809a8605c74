// Redis key names of one tenant's webhooks; the {tenant} hash tag keeps them in one Redis Cluster slot, as the scripts need.

export interface OutboxKeys {
  /** The outbox: a Redis Stream of the tenant's events, in arrival order. */
  stream: string
  /** Per event id: the stream entry id it was stored as ('acked' once removed), kept for the retention to de-duplicate. */
  event: (id: string) => string
}

export function outboxKeys (prefix: string, tenant: string): OutboxKeys {
  const base = `${prefix}webhooks:{${tenant}}`
  return { stream: `${base}:stream`, event: (id) => `${base}:event:${id}` }
}

/** The consumer group that forwards a tenant's events: each entry goes to one replica. */
export const FORWARD_GROUP = 'forward'
