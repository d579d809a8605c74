// The gateway's logger: a tenant is logged by its id only, secrets are redacted, the access line keeps its tenant id.
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { loggingOptions } from '../../src/logging.js'
import { ACCOUNT, newApiKey, testConfig } from '../helpers/gateway.js'

describe('loggingOptions', () => {
  it('logs a whole tenant object as its id, a tenant id as it is, and redacts credentials', async () => {
    const lines: string[] = []
    const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
    const config = testConfig('http://127.0.0.1:9', [{ id: 'acme', apiKey: newApiKey() }])
    const app = Fastify(loggingOptions(config, stream))
    const tenant = config.tenants[0] ?? expect.fail('no tenant')
    app.log.info({ tenant }, 'a whole tenant')
    app.log.info({ tenant: 'acme', password: ACCOUNT.password, headers: { authorization: 'Bearer secret-key' } }, 'an id and secrets')
    await app.close()

    const [whole, plain] = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(whole?.tenant).toEqual({ id: 'acme' })
    expect(plain).toMatchObject({ tenant: 'acme', password: '[redacted]', headers: { authorization: '[redacted]' } })
    const all = lines.join('')
    for (const secret of [ACCOUNT.password, ACCOUNT.clientSecret, 'secret-key']) expect(all).not.toContain(secret)
  })
})
