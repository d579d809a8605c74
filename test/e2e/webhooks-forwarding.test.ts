// Stored webhooks are pushed to the tenant's forwardUrl with an HMAC signature, retried with back-off until a 2xx,
// delivered by exactly one replica, taken over by another replica when the one delivering dies, and then leave the outbox.
import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call, metricValue } from '../helpers/call.js'
import { ACCOUNT, newApiKey, startGateway, type TestGateway, type TestTenant } from '../helpers/gateway.js'
import { startGatewayProcess, writeTenantsFile, type GatewayProcess } from '../helpers/gateway-process.js'
import { fluentEvent, outboxIds, postWebhook } from '../helpers/webhooks.js'

const SECRET = 'forward-secret-0123456789abcdef'

interface Received {
  headers: IncomingMessage['headers']
  body: string
  status: number
}

/** A legacy system's endpoint: answers each request with the next planned status (200 once the plan is used up); 0 = never answer. */
async function startReceiver (plan: number[] = []): Promise<{ url: string, received: Received[], server: Server, close: () => Promise<void> }> {
  const received: Received[] = []
  const hung: ServerResponse[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const status = plan.shift() ?? 200
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status })
      if (status === 0) {
        hung.push(res)
        return
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'failed')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fluent-events`,
    received,
    server,
    close: async () => {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

async function until (condition: () => boolean | Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (await condition()) return
    await sleep(25)
  }
  throw new Error(`timed out waiting for ${what}`)
}

const hmac = (body: string): string => `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`
const delivered = (received: Received[]): Received[] => received.filter((request) => request.status >= 200 && request.status < 300)

let sim: Simulator
beforeAll(async () => { sim = await startSimulator({ accounts: [ACCOUNT] }) })
afterAll(async () => { await sim?.close() })

const forwardingTenant = (url: string): TestTenant => ({ id: 'acme', apiKey: newApiKey(), webhooks: { publicKey: sim.webhookPublicKey, forwardUrl: url, forwardSecret: SECRET } })
const FAST = { pollMs: 100, baseDelayMs: 200, claimIdleMs: 1_000 }

describe('forwarding to webhooks.forwardUrl', () => {
  it('retries a receiver that fails twice, delivers once with a verifiable HMAC and the event id as Idempotency-Key, then empties the outbox', async () => {
    const receiver = await startReceiver([500, 503])
    const tenant = forwardingTenant(receiver.url)
    const gateway = await startGateway({ sim, redisUrl: inject('redisUrl'), tenants: [tenant], build: { webhookForwarding: FAST } })
    try {
      const event = fluentEvent({ extra: 'kept' })
      const body = JSON.stringify(event)
      expect((await postWebhook(gateway.url, sim, 'acme', body)).status).toBe(200)
      await until(() => delivered(receiver.received).length > 0, 10_000, 'the delivery')
      await until(async () => (await outboxIds(gateway)).length === 0, 5_000, 'the outbox to empty')
      await sleep(500)

      expect(receiver.received.map((request) => request.status)).toEqual([500, 503, 200])
      for (const request of receiver.received) {
        expect(request.body).toBe(body)
        expect(request.headers['content-type']).toBe('application/json')
        expect(request.headers['x-signature']).toBe(hmac(request.body))
        expect(request.headers['idempotency-key']).toBe(event.id)
      }
      const metrics = (await call(gateway.url, '/metrics')).text
      expect(metricValue(metrics, 'fgw_webhooks_forwarded_total')).toBe(1)
      expect(metricValue(metrics, 'fgw_webhooks_forward_failures_total', { reason: 'http_500' })).toBe(1)
      expect(metricValue(metrics, 'fgw_webhooks_forward_failures_total', { reason: 'http_503' })).toBe(1)
      expect(metricValue(metrics, 'fgw_webhooks_outbox_length', { tenant: 'acme' })).toBe(0)
      // The failed attempts were logged; the HMAC secret never is.
      expect(gateway.logs.text).toContain('webhook forward failed; retrying')
      expect(gateway.logs.text).not.toContain(SECRET)
    } finally {
      await gateway.close()
      await receiver.close()
    }
  })

  it('delivers each event exactly once with two replicas sharing Redis, whichever replica received it', async () => {
    const receiver = await startReceiver()
    const tenant = forwardingTenant(receiver.url)
    const env = { REDIS_KEY_PREFIX: `fw${randomBytes(4).toString('hex')}:` }
    const replicas: TestGateway[] = []
    try {
      for (let index = 0; index < 2; index++) {
        replicas.push(await startGateway({ sim, redisUrl: inject('redisUrl'), env, tenants: [tenant], build: { webhookForwarding: FAST } }))
      }
      const events = Array.from({ length: 30 }, () => fluentEvent())
      await Promise.all(events.map(async (event, index) => {
        expect((await postWebhook((replicas[index % 2] as TestGateway).url, sim, 'acme', event)).status).toBe(200)
      }))
      await until(() => receiver.received.length >= events.length, 10_000, 'every delivery')
      await sleep(1_500)
      const ids = receiver.received.map((request) => request.headers['idempotency-key'])
      expect(ids.sort()).toEqual(events.map((event) => event.id).sort())
      expect(await outboxIds(replicas[0] as TestGateway)).toEqual([])

      // Closed replicas holding nothing leave the consumer group.
      for (const replica of replicas.splice(0)) await replica.close()
      const redis = new Redis(inject('redisUrl'))
      try {
        expect(await redis.xinfo('CONSUMERS', `${env.REDIS_KEY_PREFIX}webhooks:{acme}:stream`, 'forward')).toEqual([])
      } finally {
        redis.disconnect()
      }
    } finally {
      for (const replica of replicas) await replica.close()
      await receiver.close()
    }
  })

  it('leaves an event it could not deliver pending when the app closes, for the next replica to deliver', async () => {
    const receiver = await startReceiver([0])
    const tenant = forwardingTenant(receiver.url)
    const env = { REDIS_KEY_PREFIX: `fc${randomBytes(4).toString('hex')}:` }
    const first = await startGateway({ sim, redisUrl: inject('redisUrl'), env, tenants: [tenant], build: { webhookForwarding: FAST } })
    const event = fluentEvent()
    try {
      expect((await postWebhook(first.url, sim, 'acme', event)).status).toBe(200)
      await until(() => receiver.received.length === 1, 5_000, 'the first attempt')
    } finally {
      await first.close()
    }
    const second = await startGateway({ sim, redisUrl: inject('redisUrl'), env, tenants: [tenant], build: { webhookForwarding: FAST } })
    try {
      await until(() => delivered(receiver.received).length === 1, 10_000, 'the other replica to deliver')
      expect(receiver.received.map((request) => request.headers['idempotency-key'])).toEqual([event.id, event.id])
      await until(async () => (await outboxIds(second)).length === 0, 5_000, 'the outbox to empty')
    } finally {
      await second.close()
      await receiver.close()
    }
  })
})

describe('a forwarding replica killed mid-delivery', () => {
  let processes: GatewayProcess[] = []
  afterAll(async () => { for (const gatewayProcess of processes) await gatewayProcess.stop() })

  it('is replaced: another gateway process claims the pending event after WEBHOOK_CLAIM_IDLE_MS and delivers it', async () => {
    // The first delivery never answers: the replica dies holding it.
    const receiver = await startReceiver([0])
    const tenant = forwardingTenant(receiver.url)
    const tenantsFile = writeTenantsFile([tenant], sim.url)
    const env = { REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `fk${randomBytes(4).toString('hex')}:`, WEBHOOK_CLAIM_IDLE_MS: '1000', MAX_EVENT_LOOP_DELAY_MS: '0', RATE_LIMIT_MAX: '0' }
    try {
      const first = await startGatewayProcess({ tenantsFile: tenantsFile.path, env })
      processes.push(first)
      const event = fluentEvent()
      expect((await postWebhook(first.url, sim, 'acme', event)).status).toBe(200)
      await until(() => receiver.received.length === 1, 10_000, 'the first replica to start delivering')
      process.kill(first.pid, 'SIGKILL')
      await first.stop()

      const second = await startGatewayProcess({ tenantsFile: tenantsFile.path, env })
      processes.push(second)
      await until(() => delivered(receiver.received).length === 1, 15_000, 'the second replica to deliver')
      expect(receiver.received.map((request) => request.headers['idempotency-key'])).toEqual([event.id, event.id])
      expect(receiver.received[1]?.headers['x-signature']).toBe(hmac(receiver.received[1]?.body ?? ''))
      await until(async () => (await outboxIds({ url: second.url, apiKey: tenant.apiKey })).length === 0, 5_000, 'the outbox to empty')
    } finally {
      for (const gatewayProcess of processes) await gatewayProcess.stop()
      processes = []
      tenantsFile.remove()
      await receiver.close()
    }
  })
})

describe('forwarding and the outbox together', () => {
  it('stops pushing an event the legacy system acked through the outbox while its push was failing', async () => {
    const receiver = await startReceiver([500, 500, 500, 500, 500, 500, 500, 500])
    const tenant = forwardingTenant(receiver.url)
    const gateway = await startGateway({ sim, redisUrl: inject('redisUrl'), tenants: [tenant], build: { webhookForwarding: { ...FAST, baseDelayMs: 300 } } })
    try {
      const event = fluentEvent()
      expect((await postWebhook(gateway.url, sim, 'acme', event)).status).toBe(200)
      await until(() => receiver.received.length >= 1, 5_000, 'the first push')
      expect((await call(gateway, `/webhook-events/${event.id as string}/ack`, { method: 'POST' })).status).toBe(204)
      const pushes = receiver.received.length
      await sleep(2_000)
      // At most the one attempt that was already on its way when the ack came.
      expect(receiver.received.length).toBeLessThanOrEqual(pushes + 1)
      expect(delivered(receiver.received)).toEqual([])
    } finally {
      await gateway.close()
      await receiver.close()
    }
  })
})
