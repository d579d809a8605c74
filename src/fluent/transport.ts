// HTTP to Fluent: one undici keep-alive pool per origin, every call bounded by the caller's deadline signal.
import { Agent, request } from 'undici'

export interface TransportOptions {
  /** Most sockets kept open to one Fluent origin. */
  connectionsPerOrigin?: number
  /** How long a TCP connect may take; the whole call is bounded by the deadline signal anyway. */
  connectTimeoutMs?: number
}

export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export interface Transport {
  post: (url: string, headers: Record<string, string>, body: string, signal: AbortSignal) => Promise<HttpAnswer>
  close: () => Promise<void>
}

export function createTransport (options: TransportOptions = {}): Transport {
  const agent = new Agent({
    connections: options.connectionsPerOrigin ?? 128,
    connect: { timeout: options.connectTimeoutMs ?? 5_000 },
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    // The deadline signal is what bounds a call; these only stop a socket that went silent.
    headersTimeout: 300_000,
    bodyTimeout: 300_000
  })

  return {
    async post (url, headers, body, signal) {
      const answer = await request(url, { method: 'POST', headers, body, signal, dispatcher: agent })
      const text = await answer.body.text()
      return { status: answer.statusCode, headers: answer.headers, text }
    },
    async close () {
      await agent.close()
    }
  }
}
