// Sends webhooks to a gateway as Fluent would (signed by the simulator's key) or as an attacker would, and reads answers.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto'
import type { Simulator } from '../../src/simulator/index.js'
import { call, type Answer } from './call.js'

/** A key pair that is not the simulator's: its signatures must be refused. */
export const STRANGER = generateKeyPairSync('rsa', { modulusLength: 2048 })

export function fluentEvent (fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: randomUUID(),
    name: 'FULFILMENT_CREATED',
    accountId: 'ACME',
    retailerId: '1',
    entityType: 'FULFILMENT',
    entityId: '5001',
    entityRef: 'F-5001',
    entityStatus: 'CREATED',
    rootEntityType: 'ORDER',
    rootEntityId: '3001',
    rootEntityRef: 'HD-3001',
    attributes: { carrier: 'AUSPOST' },
    ...fields
  }
}

export interface PostOptions {
  /** Sign these bytes instead of the body sent (a tampered body). */
  signed?: string
  /** The fluent-signature header as given; null sends none. */
  signature?: string | null
  /** Sign with this key instead of the simulator's. */
  privateKey?: Parameters<typeof sign>[2]
}

/** POSTs `body` (an event, or raw text) to /webhooks/fluent/{tenant} signed by the simulator's key, unless told otherwise. */
export async function postWebhook (gatewayUrl: string, sim: Simulator, tenant: string, body: unknown, options: PostOptions = {}): Promise<Answer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const signed = options.signed ?? text
  const signature = options.signature !== undefined
    ? options.signature
    : options.privateKey === undefined
      ? sim.webhooks.sign(signed)['fluent-signature']
      : sign('sha512', Buffer.from(signed), options.privateKey).toString('base64')
  return await call(gatewayUrl, `/webhooks/fluent/${tenant}`, {
    method: 'POST',
    body: text,
    apiKey: null,
    headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'fluent-signature': signature }) }
  })
}

/** Every event id in the tenant's outbox, oldest first (all pages). */
export async function outboxIds (target: { url: string, apiKey: string }, apiKey = target.apiKey): Promise<string[]> {
  const ids: string[] = []
  let after: string | null = null
  do {
    const answer: Answer = await call(target, `/webhook-events?limit=100${after === null ? '' : `&after=${after}`}`, { apiKey })
    if (answer.status !== 200) throw new Error(`GET /webhook-events answered ${answer.status}: ${answer.text}`)
    ids.push(...(answer.body.items as Array<{ id: string }>).map((item) => item.id))
    after = answer.body.nextCursor as string | null
  } while (after !== null)
  return ids
}
