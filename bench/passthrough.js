// The passthrough floor: bare Fastify + @fastify/http-proxy forwarding POST /graphql to the fake Fluent, no logger.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const upstream = process.env.UPSTREAM
if (upstream === undefined) throw new Error('UPSTREAM is required (the fake Fluent origin)')

// No logger: the floor is what the proxy itself costs (the gateway's access log, to a file, is part of what it costs).
const app = Fastify({ logger: false })
await app.register(proxy, { upstream, prefix: '/graphql', rewritePrefix: '/graphql', httpMethods: ['POST'] })
await app.listen({ port: 0, host: '127.0.0.1' })

process.send?.({ type: 'listening', port: app.server.address().port })
process.on('disconnect', () => process.exit(0))
process.on('SIGTERM', () => { app.close().finally(() => process.exit(0)) })
