// `npm run demo`: the Fluent simulator plus the gateway with a demo tenant, so every endpoint can be tried without a Fluent account.
import { createHash, randomBytes } from 'node:crypto'
import { buildApp } from './app.js'
import { buildConfig } from './config/index.js'
import { startDemoRedis } from './demo-redis.js'
import { DEFAULT_ACCOUNT, DEMO_SEED, startSimulator } from './simulator/index.js'

const simulator = await startSimulator({ port: Number(process.env.SIMULATOR_PORT ?? 0), accounts: [DEFAULT_ACCOUNT], demoData: true })
const apiKey = `demo_${randomBytes(18).toString('base64url')}`

// The demo's one tenant is made here, pointing at the simulator; the environment decides the rest (PORT, REDIS_URL, ...).
const redis = process.env.REDIS_URL === undefined ? await startDemoRedis() : undefined
const config = buildConfig({
  env: { LOG_LEVEL: 'warn', ...(redis === undefined ? {} : { REDIS_URL: redis.url }), ...process.env },
  tenants: {
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
      },
      webhooks: { publicKey: simulator.webhookPublicKey }
    }]
  }
})

const app = await buildApp(config)
const host = config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST
await app.listen({ port: config.PORT, host: config.HOST })
const base = `http://${host}:${config.PORT}`

console.log(`
fluent-rest-gateway demo is running (Fluent simulator at ${simulator.url}; Redis: ${app.redisState() === 'disabled' ? 'none (install redis-server or set REDIS_URL: webhooks need it)' : redis === undefined ? config.REDIS_URL ?? 'configured' : `a private redis-server at ${redis.url}, gone when the demo stops`})

  API key:     ${apiKey}
  Swagger UI:  ${base}/docs   (click "Authorize" and paste the key under bearerAuth)

Try:
  curl -s ${base}/me -H 'Authorization: Bearer ${apiKey}'
  curl -s -X POST ${base}/customers -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' \\
       -d '{"email":"jane.doe@example.com","firstName":"Jane","lastName":"Doe"}'
  curl -s '${base}/customers?email=jane.doe@example.com' -H 'Authorization: Bearer ${apiKey}'
  curl -s -X POST ${base}/orders -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' \\
       -d '{"ref":"HD-10001","customer":{"email":"jane.doe@example.com","firstName":"Jane"},"items":[{"ref":"HD-10001-1","productRef":"MUG-BLUE","quantity":2}],"delivery":{"address":{"name":"Jane Doe","street":"10 Harbour Road","city":"Sydney","postcode":"2000","country":"AU"}}}'
  curl -s ${base}/orders/${DEMO_SEED.orderRef} -H 'Authorization: Bearer ${apiKey}'
  curl -s '${base}/orders?status=CREATED&limit=5' -H 'Authorization: Bearer ${apiKey}'
  curl -s '${base}/fulfilments?locationRef=${DEMO_SEED.locations.sydney}' -H 'Authorization: Bearer ${apiKey}'
  curl -s ${base}/locations/${DEMO_SEED.locations.sydney} -H 'Authorization: Bearer ${apiKey}'
  curl -s '${base}/stock?locationRef=${DEMO_SEED.locations.sydney}' -H 'Authorization: Bearer ${apiKey}'
  curl -s '${base}/availability?items=MUG-BLUE:2,CAP-BLACK&near=-33.8688,151.2093' -H 'Authorization: Bearer ${apiKey}'
  curl -s -X POST ${base}/stock/adjustments -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -H 'Idempotency-Key: pos-1-sale-1' \\
       -d '{"items":[{"productRef":"MUG-BLUE","locationRef":"${DEMO_SEED.locations.sydney}","delta":-1}]}'
  printf 'productRef,locationRef,quantity\\nMUG-BLUE,${DEMO_SEED.locations.sydney},40\\n' | curl -s -i -X PUT ${base}/stock -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: text/csv' --data-binary @-
  curl -s -X POST ${base}/events -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' \\
       -d '{"name":"PICK_CONFIRMED","entityType":"ORDER","entityRef":"${DEMO_SEED.orderRef}"}'
  # the same create twice with one Idempotency-Key: the second answer is the first, replayed (Idempotent-Replayed: true)
  curl -s -i -X POST ${base}/customers -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\
       -d '{"email":"kim.ng@example.com","firstName":"Kim"}'
  curl -s -X POST ${simulator.url}/_sim/webhooks/send -d '{"url":"${base}/webhooks/fluent/demo","event":{"name":"FULFILMENT_CREATED"}}'
  curl -s '${base}/webhook-events' -H 'Authorization: Bearer ${apiKey}'

Operator routes: start with ROUTES_FILE=routes.example.yaml to serve the example routes under /x/ (see /docs, tag custom).

The simulator signs webhooks with this key (the demo tenant's webhooks.publicKey):
${simulator.webhookPublicKey}
Stop with Ctrl-C.
`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    Promise.all([app.close(), simulator.close()]).then(() => { redis?.stop(); process.exit(0) }, () => process.exit(1))
  })
}
