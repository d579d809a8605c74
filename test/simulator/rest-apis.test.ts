// The simulator's Event and Job/Batch APIs over HTTP: bearer check, batch limit, statuses over time, faults, reset.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_ACCOUNT, startSimulator, type Simulator } from '../../src/simulator/index.js'

describe('simulator REST APIs', () => {
  let sim: Simulator
  let token: string

  async function rest (method: string, path: string, body?: unknown, bearer = token): Promise<{ status: number, body: any }> {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: await response.json() }
  }

  beforeAll(async () => {
    sim = await startSimulator({ demoData: true, jobStepMs: 40 })
    const response = await fetch(`${sim.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        username: DEFAULT_ACCOUNT.username,
        password: DEFAULT_ACCOUNT.password,
        client_id: DEFAULT_ACCOUNT.clientId,
        client_secret: DEFAULT_ACCOUNT.clientSecret,
        grant_type: 'password',
        scope: 'api'
      })
    })
    token = ((await response.json()) as { access_token: string }).access_token
  })
  afterAll(async () => { await sim.close() })
  beforeEach(() => { sim.reset() })

  const entity = (index: number) => ({ locationRef: 'LOC-SYD-01', skuRef: `SKU-${index}`, qty: index, correctedQty: 0, retailerId: '1' })

  it('answers 401 to a bad token', async () => {
    expect((await rest('POST', '/api/v4.1/job', { name: 'j', retailerId: '1' }, 'nope')).status).toBe(401)
    expect(sim.jobs).toHaveLength(0)
  })

  it('takes a job and batches up to 5,000 entities, refuses 5,001, and moves statuses PENDING, RUNNING, COMPLETE', async () => {
    const job = await rest('POST', '/api/v4.1/job', { name: 'nightly', retailerId: '1' })
    expect(job).toEqual({ status: 200, body: { id: '1' } })
    const batch = await rest('POST', '/api/v4.1/job/1/batch', {
      action: 'UPSERT', entityType: 'INVENTORY', catalogueRef: 'DEFAULT:1', entities: Array.from({ length: 5000 }, (_, index) => entity(index))
    })
    expect(batch).toEqual({ status: 200, body: { id: '1' } })
    const tooBig = await rest('POST', '/api/v4.1/job/1/batch', {
      action: 'UPSERT', entityType: 'INVENTORY', catalogueRef: 'DEFAULT:1', entities: Array.from({ length: 5001 }, (_, index) => entity(index))
    })
    expect(tooBig.status).toBe(400)
    expect(sim.batches).toHaveLength(1)
    expect(sim.counters).toMatchObject({ jobRequests: 1, batchRequests: 2 })

    // Each status is set up by choosing the step length against the batch's age, so a busy machine cannot skip one.
    sim.faults.jobStepMs = 3_600_000
    const pending = await rest('GET', '/api/v4.1/job/1')
    expect(pending.body).toMatchObject({ jobId: '1', status: 'PENDING', batch: [{ batchId: '1', status: 'PENDING' }] })
    await sleep(300)
    // RUNNING while step <= age < 2 step: a step of the batch's age now holds for as long again (300 ms at least).
    sim.faults.jobStepMs = Date.now() - Date.parse(pending.body.batch[0].createdOn)
    expect((await rest('GET', '/api/v4.1/job/1/batch/1')).body).toMatchObject({ batchId: '1', status: 'RUNNING', count: 5000 })
    sim.faults.jobStepMs = 1
    expect((await rest('GET', '/api/v4.1/job/1')).body.status).toBe('COMPLETE')
    expect((await rest('GET', '/api/v4.1/job/9')).status).toBe(404)
  })

  it('answers a queued failure only to the requests it matches, after letting `skip` through', async () => {
    sim.faults.restFailures.push({ status: 503, match: '^POST /api/v4\\.1/event/', skip: 1 })
    const body = { name: 'X', retailerId: '1', entityType: 'ORDER', entityRef: 'DEMO-ORDER-1' }
    expect((await rest('POST', '/api/v4.1/job', { name: 'j', retailerId: '1' })).status).toBe(200)
    expect((await rest('POST', '/api/v4.1/event/sync', body)).status).toBe(200)
    expect((await rest('POST', '/api/v4.1/event/async', body)).status).toBe(503)
    expect((await rest('POST', '/api/v4.1/event/async', body)).status).toBe(202)
    expect(sim.counters.eventRequests).toBe(3)
    expect(sim.events).toHaveLength(2)
    const read = await rest('GET', `/api/v4.1/event/${sim.events[1]?.id ?? ''}`)
    expect(read.body).toMatchObject({ id: sim.events[1]?.id, name: 'X', entityRef: 'DEMO-ORDER-1' })
  })

  it('takes REST fault switches through PATCH /_sim/faults and refuses bad ones', async () => {
    const patch = async (body: unknown): Promise<number> => (await fetch(`${sim.url}/_sim/faults`, { method: 'PATCH', body: JSON.stringify(body) })).status
    expect(await patch({ restFailures: [{ status: 500, match: 'job', skip: 0, times: 2 }], restDelayMs: 0, jobStepMs: 10 })).toBe(200)
    expect(sim.faults.jobStepMs).toBe(10)
    expect(await patch({ restFailures: [{ status: 500, match: '(' }] })).toBe(400)
    expect(await patch({ restDelayMs: -1 })).toBe(400)
    sim.reset()
    expect(sim.faults.restFailures).toEqual([])
    expect(sim.faults.jobStepMs).toBe(40)
  })
})
