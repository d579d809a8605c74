// Webhooks: the outbox over Redis, its metrics, and the forwarder that pushes stored events to each tenant's forwardUrl.
import fp from 'fastify-plugin'
import { Counter, Gauge } from 'prom-client'
import type { Config } from '../config/index.js'
import { WebhookForwarder, type ForwarderTimings } from '../webhooks/forwarder.js'
import { WebhookOutbox } from '../webhooks/outbox.js'

export type WebhookRejection = 'signature' | 'not_json' | 'too_large' | 'unavailable'

export interface Webhooks {
  outbox: WebhookOutbox
  /** Undefined when no tenant has a forwardUrl, or there is no Redis. */
  forwarder: WebhookForwarder | undefined
  received: () => void
  rejected: (reason: WebhookRejection) => void
  duplicate: () => void
  stored: (tenant: string) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: Webhooks
  }
}

export interface WebhooksPluginOptions {
  config: Config
  /** Forwarding timings; claimIdleMs defaults to WEBHOOK_CLAIM_IDLE_MS (tests shorten the rest). */
  forwarding?: Partial<ForwarderTimings>
}

export default fp(async function webhooksPlugin (app, opts: WebhooksPluginOptions) {
  const { config } = opts
  const outbox = new WebhookOutbox(app.redis, config.REDIS_KEY_PREFIX, config.WEBHOOK_RETENTION_S)
  const registers = [app.metrics.registry]

  const received = new Counter({ name: 'fgw_webhooks_received_total', help: 'Webhooks Fluent sent to POST /webhooks/fluent/{tenant}', registers })
  const rejected = new Counter({
    name: 'fgw_webhooks_rejected_total',
    help: 'Webhooks refused, by reason: signature (401), not_json (400), too_large (413), unavailable (503, Redis could not store it)',
    labelNames: ['reason'] as const,
    registers
  })
  // Every reason from the start, so a dashboard's rate() sees the first refusal too.
  for (const reason of ['signature', 'not_json', 'too_large', 'unavailable'] as const) rejected.inc({ reason }, 0)
  const duplicates = new Counter({ name: 'fgw_webhooks_duplicates_total', help: 'Webhooks answered 200 without storing: their event id was stored already (a Fluent retry)', registers })
  const stored = new Counter({ name: 'fgw_webhooks_stored_total', help: 'Webhooks stored in an outbox', registers })
  const forwarded = new Counter({ name: 'fgw_webhooks_forwarded_total', help: 'Webhooks pushed to a forwardUrl and answered 2xx', registers })
  const forwardFailures = new Counter({
    name: 'fgw_webhooks_forward_failures_total',
    help: 'Failed pushes to a forwardUrl, by reason: http_<status>, network (incl. timeout), expired (given up at the end of the retention)',
    labelNames: ['reason'] as const,
    registers
  })
  // The reasons known in advance start at 0, so dashboards have a series before the first failure.
  for (const reason of ['network', 'expired'] as const) forwardFailures.inc({ reason }, 0)
  // The one webhook metric labelled by tenant: an outbox growing is a particular legacy system not reading it.
  // Only tenants with a webhook key get a series, so the label set is the configured webhook tenants.
  const webhookTenants = config.tenants.filter((tenant) => tenant.webhooks?.publicKey !== undefined).map((tenant) => tenant.id)
  new Gauge({ // eslint-disable-line no-new
    name: 'fgw_webhooks_outbox_length',
    help: 'Events in the tenant\'s webhook outbox (stored, not yet acked or forwarded), read with XLEN at scrape',
    labelNames: ['tenant'] as const,
    registers,
    async collect () {
      if (app.redis === undefined || app.redisState() !== 'up') return
      await Promise.all(webhookTenants.map(async (tenant) => {
        try {
          this.set({ tenant }, await outbox.length(tenant))
        } catch {
          // A scrape during an outage leaves the last value; fgw_redis_state says why.
        }
      }))
    }
  })

  const targets = app.redis === undefined
    ? []
    : config.tenants.flatMap((tenant) => tenant.webhooks?.forward === undefined ? [] : [{ tenant: tenant.id, ...tenant.webhooks.forward }])
  const forwarder = targets.length === 0
    ? undefined
    : new WebhookForwarder(outbox, targets, { claimIdleMs: config.WEBHOOK_CLAIM_IDLE_MS, ...opts.forwarding }, app.log, {
      forwarded: () => { forwarded.inc() },
      failed: (_tenant, reason) => { forwardFailures.inc({ reason }) }
    })
  if (app.redis === undefined && config.tenants.some((tenant) => tenant.webhooks?.publicKey !== undefined)) {
    app.log.warn('no Redis configured: webhooks are refused with 503 (they can only be stored in Redis) and nothing is forwarded')
  }

  app.decorate('webhooks', {
    outbox,
    forwarder,
    received: () => { received.inc() },
    rejected: (reason) => { rejected.inc({ reason }) },
    duplicate: () => { duplicates.inc() },
    stored: (tenant) => {
      stored.inc()
      forwarder?.kick(tenant)
    }
  } satisfies Webhooks)

  // Forwarding runs in the background, off the request path; registered after redis, so it stops before Redis closes.
  app.addHook('onReady', async () => { forwarder?.start() })
  app.addHook('onClose', async () => { await forwarder?.stop() })
}, { name: 'webhooks', dependencies: ['redis', 'metrics'] })
