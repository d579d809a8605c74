// Small HTTP helpers every endpoint of the simulator shares: JSON answers, bounded body reads, JSON parsing.
import type { IncomingMessage, ServerResponse } from 'node:http'

export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers
  })
  res.end(payload)
}

/** Reads the whole body; past the limit it keeps draining (so the client sees the answer, not a reset) and returns null. */
export async function readBody (req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= limit) chunks.push(chunk)
  }
  return size > limit ? null : Buffer.concat(chunks)
}

export function parseJson (buffer: Buffer): { ok: true, value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buffer.toString('utf8')) }
  } catch {
    return { ok: false }
  }
}
