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

closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ err }, 'closing after an uncaught error')
  else app.log.info({ signal }, 'draining: readiness now answers 503, finishing in-flight requests')
  app.draining = true
  // Let load balancers see the 503 on /readyz and stop sending before the listener closes.
  await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_DELAY_MS))
  await app.close()
})

await app.listen({ port: config.PORT, host: config.HOST })
