// The passthrough floor: bare Fastify + @fastify/http-proxy forwarding POST /graphql to the fake Fluent, pino at info.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const upstream = process.env.UPSTREAM
if (upstream === undefined) throw new Error('UPSTREAM is required (the fake Fluent origin)')

// Same logger level and sink (stdout, sent to /dev/null by the bench) as the gateway, so both pay for request logs.
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
await app.register(proxy, { upstream, prefix: '/graphql', rewritePrefix: '/graphql', httpMethods: ['POST'] })
await app.listen({ port: 0, host: '127.0.0.1' })

process.send?.({ type: 'listening', port: app.server.address().port })
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => { app.close().finally(() => process.exit(0)) })
