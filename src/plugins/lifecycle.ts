// The process's lifecycle as requests see it: `app.draining` from SIGTERM on, and every response closing its connection then.
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by server.ts on SIGTERM: readiness answers 503 so the load balancer stops sending, while in-flight requests finish. */
    draining: boolean
  }
}

export default fp(async function lifecyclePlugin (app) {
  app.decorate('draining', false)

  // From SIGTERM on (and once close() has begun), every response closes its connection: server.close() waits for
  // keep-alive sockets, and an idle one would otherwise hold the shutdown until its keep-alive timeout (72 s), past the
  // grace period.
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing || app.draining) reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'lifecycle' })
