// CLI entry of the Fluent simulator (docker-compose, the demo): listens on PORT/HOST and logs its URL.
import { startSimulator, type SimulatorAccount, type SimulatorOptions } from './index.js'

function fail (message: string): never {
  console.error(`fluent-simulator: ${message}`)
  process.exit(1)
}

function readOptions (env: NodeJS.ProcessEnv): SimulatorOptions {
  const options: SimulatorOptions = { port: 4000, host: env.HOST ?? '127.0.0.1' }
  if (env.PORT !== undefined) {
    const port = Number(env.PORT)
    if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got "${env.PORT}"`)
    options.port = port
  }
  if (env.SIMULATOR_TOKEN_TTL_SECONDS !== undefined) {
    const ttl = Number(env.SIMULATOR_TOKEN_TTL_SECONDS)
    if (!Number.isInteger(ttl) || ttl < 1) fail('SIMULATOR_TOKEN_TTL_SECONDS must be a positive integer')
    options.tokenTtlSeconds = ttl
  }
  // Demo locations, products, stock and an order (DEMO_SEED in seed.ts); off unless asked for.
  if (env.SIMULATOR_DEMO_DATA !== undefined) {
    if (env.SIMULATOR_DEMO_DATA !== 'true' && env.SIMULATOR_DEMO_DATA !== 'false') fail('SIMULATOR_DEMO_DATA must be true or false')
    options.demoData = env.SIMULATOR_DEMO_DATA === 'true'
  }
  // A JSON array of {clientId, clientSecret, username, password, retailerId?}; default: the demo account.
  if (env.SIMULATOR_ACCOUNTS !== undefined) {
    let accounts: unknown
    try {
      accounts = JSON.parse(env.SIMULATOR_ACCOUNTS)
    } catch {
      fail('SIMULATOR_ACCOUNTS must be a JSON array of accounts')
    }
    const fields = ['clientId', 'clientSecret', 'username', 'password'] as const
    if (!Array.isArray(accounts) || accounts.length === 0 || !accounts.every((account) =>
      typeof account === 'object' && account !== null &&
      fields.every((field) => typeof (account as Record<string, unknown>)[field] === 'string'))) {
      fail('SIMULATOR_ACCOUNTS must be a non-empty JSON array of {clientId, clientSecret, username, password, retailerId?}')
    }
    options.accounts = accounts as SimulatorAccount[]
  }
  return options
}

const simulator = await startSimulator(readOptions(process.env))
console.log(`Fluent simulator listening on ${simulator.url} (token: ${simulator.url}/oauth/token, GraphQL: ${simulator.url}/graphql)`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    simulator.close().then(() => process.exit(0), () => process.exit(1))
  })
}
