// GET /me: the Fluent user behind the caller's tenant; the simplest way to check keys and credentials work.
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { NotFoundError } from '../errors.js'
import type { FluentUser } from '../fluent/me.js'
import { NullableString } from '../schemas/common.js'
import { problemResponses } from '../schemas/problem.js'

export const UserSchema = Type.Object({
  id: Type.String({ description: 'Fluent user id', examples: ['5'] }),
  ref: Type.String({ description: 'Fluent user ref', examples: ['acme_integration'] }),
  username: Type.String({ description: 'login name of the tenant\'s Fluent account', examples: ['acme_integration'] }),
  type: Type.String({ description: 'Fluent user type', examples: ['ADMIN'] }),
  status: NullableString('Fluent status', 'ACTIVE'),
  title: NullableString('title', 'Mr'),
  firstName: NullableString('first name', 'Acme'),
  lastName: NullableString('last name', 'Integration'),
  email: NullableString('primary email', 'integration@acme.example'),
  phone: NullableString('primary phone', '+61 400 000 000'),
  timezone: NullableString('IANA time zone', 'UTC'),
  retailerId: NullableString('id of the user\'s primary retailer', '1')
}, { $id: 'User', title: 'User', description: 'The Fluent user the tenant\'s credentials belong to' })

type User = Static<typeof UserSchema>

export function toUser (user: FluentUser): User {
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
