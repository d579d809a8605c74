// Entry point: load config, build the app, listen; on SIGTERM drain (readiness 503), finish in-flight requests, close, exit.
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { loadConfig } from './config/index.js'

let config
try {
  config = loadConfig()
} catch (error) {
  // A configuration mistake stops the process with a message that names the variable, tenant or field.
  console.error(`fluent-rest-gateway: configuration error: ${(error as Error).message}`)
  process.exit(1)
}

const app = await buildApp(config)

const { SHUTDOWN_GRACE_MS, SHUTDOWN_DRAIN_DELAY_MS, FLUENT_TIMEOUT_MS } = config
if (SHUTDOWN_GRACE_MS < SHUTDOWN_DRAIN_DELAY_MS + FLUENT_TIMEOUT_MS) {
  app.log.warn({ SHUTDOWN_GRACE_MS, SHUTDOWN_DRAIN_DELAY_MS, FLUENT_TIMEOUT_MS },
    'SHUTDOWN_GRACE_MS is shorter than the drain delay plus one Fluent deadline: a slow call may be cut at shutdown')
}

// Exit codes: 0 once every in-flight request has been answered and Redis and the Fluent pool are closed; 1 when the
// grace period ran out first (close-with-grace exits 1 then, and requests were cut), on a second signal, or after
// an uncaught error. The grace period counts from the signal, so it includes the drain delay.
closeWithGrace({
  delay: SHUTDOWN_GRACE_MS,
  logger: { error: (message: unknown) => { app.log.error({ err: message }, 'shutdown failed') } },
  onTimeout: (delay) => { app.log.error({ graceMs: delay }, 'grace period over with requests still in flight: exiting with code 1') },
  onSecondSignal: (signal) => { app.log.warn({ signal }, 'second signal during shutdown: exiting with code 1') }
}, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'closing after an uncaught error')
  else app.log.info({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'draining: readiness now answers 503, finishing in-flight requests')
  app.draining = true
  // Let load balancers see the 503 on /readyz and stop sending before the listener closes.
  if (SHUTDOWN_DRAIN_DELAY_MS > 0) await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_DRAIN_DELAY_MS))
  await app.close()
  app.log.info('closed: every request answered, Redis and the Fluent pool closed')
})

await app.listen({ port: config.PORT, host: config.HOST })
