// Fluent's webhook sender, simulated: its own RSA key pair, signed POSTs, Fluent's retry schedule, and faults that tamper.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { request } from 'undici'

/** Fluent retries a failed delivery immediately, then after 2, 4 and 8 s. */
const FLUENT_RETRY_DELAYS_MS: readonly number[] = [0, 2_000, 4_000, 8_000]

/** What goes wrong on purpose: the body changed after signing, or the signature itself. */
export type WebhookTamper = 'none' | 'body' | 'signature'

export interface WebhookAttempt {
  /** HTTP status of the answer; null when the receiver could not be reached. */
  status: number | null
  at: number
}

export interface WebhookDelivery {
  url: string
  eventId: string
  attempts: WebhookAttempt[]
  /** Answered 2xx at some attempt. */
  delivered: boolean
}

export interface WebhookSenderSettings {
  /** Delays before each retry after a failed attempt (not 2xx); the default is Fluent's. */
  retryDelaysMs: number[]
  tamper: WebhookTamper
  /** Where notify() sends events (e.g. ORDER_CREATED from createOrder); unset: nowhere. */
  url: string | undefined
}

export interface WebhookSender {
  /** The public half of the simulator's signing key (SPKI PEM): the tenant's webhooks.publicKey. */
  publicKeyPem: string
  settings: WebhookSenderSettings
  deliveries: WebhookDelivery[]
  /** The two signature headers Fluent sends for these bytes. */
  sign: (body: string) => { 'fluent-signature': string, 'flex.signature': string }
  /** POSTs the event (id, accountId and retailerId filled in when missing) and retries as Fluent does; resolves when done. */
  send: (url: string, event: Record<string, unknown>) => Promise<WebhookDelivery>
  /** The hook for simulated entities (createOrder): sends to settings.url when set, in the background. */
  notify: (event: Record<string, unknown>) => void
  /** /_sim/webhooks admin routes; false when the path is not one of them. */
  handleAdmin: (req: IncomingMessage, res: ServerResponse, path: string, body: () => Promise<unknown>) => Promise<boolean>
  reset: () => void
  close: () => Promise<void>
}

function settingsProblem (patch: unknown): string | null {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return 'body must be a JSON object'
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'retryDelaysMs') {
      if (!Array.isArray(value) || value.some((delay) => typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0)) return 'retryDelaysMs must be an array of non-negative numbers'
    } else if (key === 'tamper') {
      if (value !== 'none' && value !== 'body' && value !== 'signature') return 'tamper must be none, body or signature'
    } else if (key === 'url') {
      if (value !== null && (typeof value !== 'string' || !/^https?:\/\//.test(value))) return 'url must be an http(s) URL or null'
    } else {
      return `unknown webhook setting: ${key}`
    }
  }
  return null
}

export function createWebhookSender (options: { retryDelaysMs?: number[], accountId?: string, retailerId?: string } = {}): WebhookSender {
  // Made on first use: most simulators (one per test file) never send a webhook, and a 2048-bit key takes a while.
  let pair: { privateKey: KeyObject, publicKey: KeyObject } | undefined
  const keys = (): { privateKey: KeyObject, publicKey: KeyObject } => (pair ??= generateKeyPairSync('rsa', { modulusLength: 2048 }))
  const defaults = (): WebhookSenderSettings => ({ retryDelaysMs: [...(options.retryDelaysMs ?? FLUENT_RETRY_DELAYS_MS)], tamper: 'none', url: undefined })
  const settings = defaults()
  const deliveries: WebhookDelivery[] = []
  const closing = new AbortController()
  const background = new Set<Promise<unknown>>()

  const signatures = (body: string): { 'fluent-signature': string, 'flex.signature': string } => ({
    'fluent-signature': sign('sha512', Buffer.from(body), keys().privateKey).toString('base64'),
    'flex.signature': sign('md5', Buffer.from(body), keys().privateKey).toString('base64')
  })

  async function attempt (url: string, body: string): Promise<number | null> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...signatures(body) }
    let sent = body
    if (settings.tamper === 'body') sent = body.replace(/}\s*$/, ',"tampered":true}')
    if (settings.tamper === 'signature') {
      const bytes = Buffer.from(headers['fluent-signature'] ?? '', 'base64')
      bytes[0] = (bytes[0] ?? 0) ^ 0xff
      headers['fluent-signature'] = bytes.toString('base64')
    }
    try {
      const answer = await request(url, { method: 'POST', headers, body: sent, signal: AbortSignal.any([closing.signal, AbortSignal.timeout(10_000)]) })
      await answer.body.dump()
      return answer.statusCode
    } catch {
      return null
    }
  }

  async function send (url: string, event: Record<string, unknown>): Promise<WebhookDelivery> {
    const full = { id: randomUUID(), accountId: options.accountId ?? 'SIMULATOR', retailerId: options.retailerId ?? '1', ...event }
    const body = JSON.stringify(full)
    const delivery: WebhookDelivery = { url, eventId: String(full.id), attempts: [], delivered: false }
    deliveries.push(delivery)
    const delays = [...settings.retryDelaysMs]
    for (let index = 0; ; index++) {
      const status = await attempt(url, body)
      delivery.attempts.push({ status, at: Date.now() })
      if (status !== null && status >= 200 && status < 300) {
        delivery.delivered = true
        break
      }
      const delay = delays[index]
      if (delay === undefined || closing.signal.aborted) break
      await sleep(delay, undefined, { signal: closing.signal }).catch(() => {})
      if (closing.signal.aborted) break
    }
    return delivery
  }

  const sender: WebhookSender = {
    get publicKeyPem () { return keys().publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    settings,
    deliveries,
    sign: signatures,
    send,
    notify (event) {
      if (settings.url === undefined) return
      const work = send(settings.url, event)
      background.add(work)
      work.finally(() => background.delete(work)).catch(() => {})
    },
    async handleAdmin (req, res, path, readBody) {
      const route = `${req.method ?? ''} ${path}`
      const answer = (status: number, body: unknown): void => {
        const payload = JSON.stringify(body)
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) })
        res.end(payload)
      }
      switch (route) {
        case 'GET /_sim/webhooks':
          answer(200, { publicKey: sender.publicKeyPem, settings, deliveries })
          return true
        case 'PATCH /_sim/webhooks': {
          const patch = await readBody()
          const problem = settingsProblem(patch)
          if (problem !== null) {
            answer(400, { error: problem })
            return true
          }
          const { url, ...rest } = patch as Partial<WebhookSenderSettings> & { url?: string | null }
          Object.assign(settings, rest)
          if (url !== undefined) settings.url = url ?? undefined
          answer(200, { settings })
          return true
        }
        case 'POST /_sim/webhooks/send': {
          const body = await readBody() as { url?: unknown, event?: unknown } | undefined
          const url = body?.url ?? settings.url
          if (typeof url !== 'string' || typeof body?.event !== 'object' || body.event === null || Array.isArray(body.event)) {
            answer(400, { error: 'body must be {"url": "...", "event": {...}} (url may be left out when set with PATCH /_sim/webhooks)' })
            return true
          }
          answer(200, await send(url, body.event as Record<string, unknown>))
          return true
        }
        default:
          return false
      }
    },
    reset () {
      Object.assign(settings, defaults())
      deliveries.length = 0
    },
    async close () {
      closing.abort()
      await Promise.allSettled([...background])
    }
  }
  return sender
}
