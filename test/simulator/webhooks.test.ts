// The simulator sends webhooks as Fluent does: signed SHA512withRSA (fluent-signature) and MD5withRSA (flex.signature),
// retried on its schedule, with faults that tamper with the body or the signature, driven by code or admin routes.
import { createPublicKey, verify } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'

interface Seen { headers: IncomingHttpHeaders, body: string, at: number }

let sim: Simulator
let receiverUrl: string
const seen: Seen[] = []
const plan: number[] = []
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() })
    res.writeHead(plan.shift() ?? 200).end()
  })
})

beforeAll(async () => {
  sim = await startSimulator({ webhookRetryDelaysMs: [0, 100, 200] })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
})
afterAll(async () => {
  await sim?.close()
  await new Promise((resolve) => receiver.close(resolve))
})

const verifies = (algorithm: string, item: Seen, header: string): boolean =>
  verify(algorithm, Buffer.from(item.body), createPublicKey(sim.webhookPublicKey), Buffer.from(String(item.headers[header]), 'base64'))

describe('simulator webhooks', () => {
  it('signs the exact body with fluent-signature (SHA512withRSA) and flex.signature (MD5withRSA), and fills in id, accountId, retailerId', async () => {
    seen.length = 0
    const delivery = await sim.webhooks.send(receiverUrl, { name: 'ORDER_CREATED', entityType: 'ORDER' })
    expect(delivery).toMatchObject({ delivered: true, attempts: [{ status: 200 }] })
    const [item] = seen
    expect(item?.headers['content-type']).toBe('application/json')
    expect(verifies('sha512', item as Seen, 'fluent-signature')).toBe(true)
    expect(verifies('md5', item as Seen, 'flex.signature')).toBe(true)
    expect(JSON.parse(item?.body ?? '')).toEqual({ id: delivery.eventId, accountId: 'DEMO', retailerId: '1', name: 'ORDER_CREATED', entityType: 'ORDER' })
  })

  it('retries a failed delivery on its schedule, then stops', async () => {
    seen.length = 0
    plan.push(503, 500, 502, 500)
    const delivery = await sim.webhooks.send(receiverUrl, { name: 'ORDER_CREATED' })
    expect(delivery.attempts.map((attempt) => attempt.status)).toEqual([503, 500, 502, 500])
    expect(delivery.delivered).toBe(false)
    const gaps = seen.slice(1).map((item, index) => item.at - (seen[index] as Seen).at)
    expect(gaps[1]).toBeGreaterThanOrEqual(95)
    expect(gaps[2]).toBeGreaterThanOrEqual(195)
    expect(new Set(seen.map((item) => item.body)).size).toBe(1)
  })

  it('tampers with the body or the signature on request, through PATCH /_sim/webhooks', async () => {
    for (const tamper of ['body', 'signature'] as const) {
      seen.length = 0
      const patched = await fetch(`${sim.url}/_sim/webhooks`, { method: 'PATCH', body: JSON.stringify({ tamper, retryDelaysMs: [] }) })
      expect(patched.status).toBe(200)
      await sim.webhooks.send(receiverUrl, { name: 'ORDER_CREATED' })
      expect(verifies('sha512', seen[0] as Seen, 'fluent-signature')).toBe(false)
    }
    sim.webhooks.reset()
    expect(sim.webhooks.settings).toEqual({ tamper: 'none', retryDelaysMs: [0, 100, 200], url: undefined })
    expect((await fetch(`${sim.url}/_sim/webhooks`, { method: 'PATCH', body: JSON.stringify({ tamper: 'everything' }) })).status).toBe(400)
  })

  it('sends through POST /_sim/webhooks/send, and notify() goes to the configured url (the createOrder hook)', async () => {
    seen.length = 0
    const answer = await fetch(`${sim.url}/_sim/webhooks/send`, { method: 'POST', body: JSON.stringify({ url: receiverUrl, event: { id: 'E-1', name: 'FULFILMENT_CREATED' } }) })
    expect(await answer.json()).toMatchObject({ eventId: 'E-1', delivered: true })
    sim.webhooks.settings.url = receiverUrl
    sim.webhooks.notify({ id: 'E-2', name: 'ORDER_CREATED' })
    const deadline = Date.now() + 5_000
    while (seen.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(seen.map((item) => JSON.parse(item.body).id)).toEqual(['E-1', 'E-2'])
    const state = await (await fetch(`${sim.url}/_sim/webhooks`)).json() as { publicKey: string, deliveries: unknown[] }
    expect(state.publicKey).toBe(sim.webhookPublicKey)
    expect(state.deliveries.length).toBeGreaterThanOrEqual(2)
    sim.webhooks.reset()
  })
})
