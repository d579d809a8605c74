// The gateway's undici Agent, loaded without undici's index, is undici's own, request API included.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { Agent } from '../src/undici-agent.js'

describe('Agent from src/undici-agent.ts', () => {
  it('is the class undici exports, with the request API its index gives dispatchers', async () => {
    const undici = await import('undici')
    expect(Agent).toBe(undici.Agent)
    for (const method of ['request', 'stream', 'pipeline', 'connect', 'upgrade'] as const) {
      expect(Agent.prototype[method], method).toBe(undici.Agent.prototype[method])
      expect(typeof Agent.prototype[method], method).toBe('function')
    }
  })

  it('sends a request and reads its answer', async () => {
    const server = createServer((request, response) => { response.end(`${request.method ?? ''} ${request.url ?? ''}`) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const agent = new Agent()
    try {
      const { port } = server.address() as AddressInfo
      const answer = await agent.request({ origin: `http://127.0.0.1:${port}`, path: '/x?y=1', method: 'POST', body: 'z' })
      expect(answer.statusCode).toBe(200)
      expect(await answer.body.text()).toBe('POST /x?y=1')
    } finally {
      await agent.close()
      server.close()
    }
  })
})
