// Every response carries its request id (the caller's x-request-id when sane, else a new UUID; see logging.ts).
import fp from 'fastify-plugin'

export default fp(async function requestIdPlugin (app) {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id)
    done()
  })
}, { name: 'request-id' })
