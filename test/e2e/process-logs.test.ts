// The log stream of a real gateway process: lines are buffered for fewer writes, yet show promptly when traffic is quiet.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LOG_FLUSH_MS } from '../../src/logging.js'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { call } from '../helpers/call.js'
import { startGatewayProcess, writeTenantsFile, type GatewayProcess, type TenantsFile } from '../helpers/gateway-process.js'
import { ACCOUNT, newApiKey } from '../helpers/gateway.js'

describe('the gateway process log stream', () => {
  let sim: Simulator
  let tenants: TenantsFile
  let gateway: GatewayProcess
  const apiKey = newApiKey()

  beforeAll(async () => {
    sim = await startSimulator({ accounts: [ACCOUNT] })
    tenants = writeTenantsFile([{ id: 'acme', apiKey }], sim.url)
    gateway = await startGatewayProcess({ tenantsFile: tenants.path, env: { REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'info' } })
  })
  afterAll(async () => {
    await gateway.stop()
    await sim.close()
    tenants.remove()
  })

  it('writes a lone request\'s access line within the flush interval, though it is far short of a full buffer', async () => {
    const answer = await call(gateway.url, '/me', { apiKey, headers: { 'x-request-id': 'lone-request' } })
    expect(answer.status).toBe(200)
    const sent = performance.now()
    // A few intervals of slack for a busy machine; without the periodic flush the line would wait for 4 KB of others.
    const deadline = sent + LOG_FLUSH_MS * 8
    const line = (): Record<string, unknown> | undefined => gateway.logs().find((entry) => entry.reqId === 'lone-request')
    while (line() === undefined && performance.now() < deadline) await sleep(10)
    expect(line()).toMatchObject({ msg: 'request completed', route: '/me', status: 200, tenant: 'acme' })
  })
})
