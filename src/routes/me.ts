// GET /me: the Fluent user behind the caller's tenant; the simplest way to check keys and credentials work.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../errors.js'
import type { FluentUser } from '../fluent/me.js'
import { problemResponses } from '../schemas/problem.js'
import { UserSchema, type User } from '../schemas/user.js'

function toUser (user: FluentUser): User {
  return {
    id: user.id,
    ref: user.ref,
    username: user.username,
    type: user.type,
    status: user.status ?? null,
    title: user.title ?? null,
    firstName: user.firstName ?? null,
    lastName: user.lastName ?? null,
    email: user.primaryEmail ?? null,
    phone: user.primaryPhone ?? null,
    timezone: user.timezone ?? null,
    retailerId: user.primaryRetailer?.id ?? null
  }
}

const meRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/me', {
    schema: {
      tags: ['account'],
      operationId: 'getMe',
      summary: 'Who am I in Fluent',
      description: 'Sends Fluent `me` with the tenant\'s token: a quick check that the API key and the tenant\'s Fluent credentials work.',
      response: {
        200: { ...Type.Ref(UserSchema), description: 'The Fluent user' },
        ...problemResponses(401, 403, 404, 422, 429, 502, 503, 504)
      }
    }
  }, async (request) => {
    const user = await request.fluent.me.get()
    if (user === null) throw new NotFoundError('Fluent has no user for these credentials')
    return toUser(user)
  })
}

export default meRoutes
