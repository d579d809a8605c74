// The problem+json body (RFC 9457) every error answers with, as documented in OpenAPI.
import { Type, type Static } from '@sinclair/typebox'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URI naming the kind of problem', examples: ['urn:fluent-rest-gateway:problem:validation-failed'] }),
  title: Type.String({ description: 'short summary of the kind of problem', examples: ['Request validation failed'] }),
  status: Type.Integer({ description: 'HTTP status code', examples: [400] }),
  detail: Type.String({ description: 'what went wrong with this request', examples: ["body must have required property 'email'"] }),
  instance: Type.String({ description: 'path of the request', examples: ['/customers'] }),
  code: Type.String({ description: 'stable machine-readable code', examples: ['VALIDATION_FAILED'] }),
  requestId: Type.String({ description: 'the request id, also in the x-request-id header', examples: ['2f1c7a3e-6a1b-4f57-9e0e-7d7c0f7f3b1a'] }),
  errors: Type.Optional(Type.Array(Type.Object({
    path: Type.String({ description: 'where in the request (body, querystring, params), as a JSON pointer', examples: ['/body/email'] }),
    message: Type.String({ description: 'what is wrong there', examples: ['must be string'] })
  }), { description: 'each validation failure' })),
  upstream: Type.Optional(Type.Object({
    status: Type.Integer({ description: 'HTTP status Fluent answered with', examples: [200] }),
    codes: Type.Array(Type.String(), { description: 'Fluent error codes found in its answer', examples: [['C0123E']] }),
    messages: Type.Array(Type.String(), { description: "Fluent's error messages", examples: [['Unique constraint violation']] })
  }, { description: 'what Fluent said, for failures on the Fluent side' }))
}, { $id: 'Problem', title: 'Problem', description: 'An error, as application/problem+json (RFC 9457)' })

export type Problem = Static<typeof ProblemSchema>

interface ProblemResponse {
  description: string
  headers?: Record<string, { description: string, type: 'integer', examples: number[] }>
  content: { 'application/problem+json': { schema: ReturnType<typeof Type.Ref> } }
}

/** Problem responses by status, for a route's `response` schema. */
export function problemResponses (...statuses: number[]): Record<number, ProblemResponse> {
  const descriptions: Record<number, string> = {
    400: 'The request failed validation (VALIDATION_FAILED); nothing was sent to Fluent',
    401: 'No or unknown API key (UNAUTHENTICATED)',
    403: 'The tenant may not do this (FORBIDDEN)',
    404: 'No such entity (NOT_FOUND)',
    409: 'Fluent says it already exists (CONFLICT)',
    413: 'The body is too large (PAYLOAD_TOO_LARGE)',
    415: 'The body is not JSON (UNSUPPORTED_MEDIA_TYPE)',
    422: 'Fluent rejected the input (UPSTREAM_REJECTED)',
    429: 'Rate limited by the gateway or by Fluent (RATE_LIMITED); see Retry-After',
    502: 'Fluent failed, could not be reached, or refused the tenant\'s credentials (UPSTREAM_UNAVAILABLE, UPSTREAM_AUTH_FAILED)',
    503: 'The gateway is draining or overloaded (UNAVAILABLE); see Retry-After',
    504: 'Fluent did not answer within the deadline (UPSTREAM_TIMEOUT)'
  }
  return Object.fromEntries(statuses.map((status) => [status, {
    description: descriptions[status] ?? 'Error',
    ...(status === 429 || status === 503 ? { headers: { 'retry-after': { description: 'seconds to wait before trying again', type: 'integer' as const, examples: [5] } } } : {}),
    content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema) } }
  }]))
}
