// `npm run demo`: the Fluent simulator plus the gateway with a demo tenant, so every endpoint can be tried without a Fluent account.
import { createHash, randomBytes } from 'node:crypto'
import { buildApp } from './app.js'
import { loadEnv } from './config/env.js'
import { loadRoutesFile } from './config/routes.js'
import { parseTenants } from './config/tenants.js'
import { DEFAULT_ACCOUNT, startSimulator } from './simulator/index.js'

const env = loadEnv({ TENANTS_FILE: '(demo: built in)', ...process.env })
const simulator = await startSimulator({ port: Number(process.env.SIMULATOR_PORT ?? 0), accounts: [DEFAULT_ACCOUNT], demoData: true })
const apiKey = `demo_${randomBytes(18).toString('base64url')}`

const tenants = parseTenants({
  tenants: [{
    id: 'demo',
    apiKeys: [`sha256:${createHash('sha256').update(apiKey).digest('hex')}`],
    fluent: {
      baseUrl: simulator.url,
      clientId: DEFAULT_ACCOUNT.clientId,
      clientSecret: DEFAULT_ACCOUNT.clientSecret,
      username: DEFAULT_ACCOUNT.username,
      password: DEFAULT_ACCOUNT.password,
      retailerId: DEFAULT_ACCOUNT.retailerId ?? '1',
      catalogueRef: 'PC:MASTER:1'
    }
  }]
})

// ROUTES_FILE=routes.example.yaml npm run demo serves the example operator routes too.
const routes = env.ROUTES_FILE === undefined ? [] : loadRoutesFile(env.ROUTES_FILE)
const app = await buildApp({ ...env, LOG_LEVEL: process.env.LOG_LEVEL === undefined ? 'warn' : env.LOG_LEVEL, tenants, routes })
const host = env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST
await app.listen({ port: env.PORT, host: env.HOST })
const base = `http://${host}:${env.PORT}`

console.log(`
fluent-rest-gateway demo is running (Fluent simulator at ${simulator.url}; token cache: ${app.redisState() === 'disabled' ? 'in-process (set REDIS_URL to use Redis)' : 'Redis'})

  API key:     ${apiKey}
  Swagger UI:  ${base}/docs   (click "Authorize" and paste the key under bearerAuth)

Try:
  curl -s ${base}/me -H 'Authorization: Bearer ${apiKey}'
  curl -s -X POST ${base}/customers -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' \\
       -d '{"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe"}'
  curl -s '${base}/customers?email=jane.doe@example.com' -H 'Authorization: Bearer ${apiKey}'

Stop with Ctrl-C.
`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    Promise.all([app.close(), simulator.close()]).then(() => process.exit(0), () => process.exit(1))
  })
}
