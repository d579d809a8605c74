// Which methods a path has, for the 405 of a known path asked with a method it lacks: one router over every route.
import FindMyWay from 'find-my-way'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods routes serve at this URL (query string ignored), sorted; empty for an unknown path. */
    allowedMethods: (url: string) => string[]
  }
}

type Method = FindMyWay.HTTPMethod

export default fp(async function allowedMethodsPlugin (app) {
  // A twin of Fastify's own router (find-my-way, with its default options, as Fastify uses it here), fed by onRoute:
  // the same path matching (parameters, wildcards) without reaching into Fastify's internals.
  const router = FindMyWay()
  const methods = new Set<Method>()
  const noop = (): void => {}

  app.addHook('onRoute', (route) => {
    const routeMethods = (Array.isArray(route.method) ? route.method : [route.method]) as Method[]
    for (const method of routeMethods) {
      methods.add(method)
      router.on(method, route.url ?? route.path, noop)
    }
  })

  app.decorate('allowedMethods', (url: string): string[] => {
    const path = url.split('?')[0] ?? url
    return [...methods].filter((method) => router.find(method, path) !== null).sort()
  })
}, { name: 'allowed-methods' })
