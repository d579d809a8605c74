// The commitThenFail fault: the next mutation is committed, then its answer is lost (dropped connection or 502); queries pass.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { admin, getToken, graphql } from './http.js'

const CREATE = 'mutation Create($input: CreateStandardProductInput) { createStandardProduct(input: $input) { id ref } }'
const READ = 'query Read($ref: String!) { standardProduct(ref: $ref, catalogue: { ref: "PC:MASTER:1" }) { id ref } }'
const input = (ref: string): Record<string, unknown> => ({ input: { ref, type: 'STANDARD', gtin: '1', name: 'N', catalogue: { ref: 'PC:MASTER:1' } } })

describe('the commitThenFail fault', () => {
  let sim: Simulator
  let token: string
  beforeAll(async () => { sim = await startSimulator() })
  afterAll(async () => { await sim.close() })
  beforeEach(async () => {
    sim.reset()
    token = await getToken(sim)
  })

  it('commits the next mutation and answers 502, leaving queries alone', async () => {
    expect((await admin(sim, 'PATCH', '/_sim/faults', { commitThenFail: { mode: '502' } })).status).toBe(200)
    expect((await graphql(sim, token, READ, { ref: 'CTF-1' })).body.data.standardProduct).toBeNull()
    expect((await graphql(sim, token, CREATE, input('CTF-1'))).status).toBe(502)
    expect((await graphql(sim, token, READ, { ref: 'CTF-1' })).body.data.standardProduct.ref).toBe('CTF-1')
    expect(sim.faults.commitThenFail).toBeNull()
    expect((await graphql(sim, token, CREATE, input('CTF-2'))).status).toBe(200)
  })

  it('commits the next mutation and drops the connection', async () => {
    sim.faults.commitThenFail = { mode: 'drop' }
    await expect(graphql(sim, token, CREATE, input('CTF-3'))).rejects.toThrow()
    expect((await graphql(sim, token, READ, { ref: 'CTF-3' })).body.data.standardProduct.ref).toBe('CTF-3')
  })

  it('refuses a bad value with 400', async () => {
    expect((await admin(sim, 'PATCH', '/_sim/faults', { commitThenFail: { mode: 'later' } })).status).toBe(400)
    expect((await admin(sim, 'PATCH', '/_sim/faults', { commitThenFail: { mode: 'drop', times: 0 } })).status).toBe(400)
  })
})
