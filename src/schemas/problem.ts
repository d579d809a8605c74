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
  content: { 'application/problem+json': { schema: ReturnType<typeof Type.Ref>, example: Problem } }
}

/** One example body per status, so each error response in /docs shows its own code rather than the schema's 400. */
const EXAMPLES: Record<number, Pick<Problem, 'code' | 'title' | 'detail'> & Partial<Problem>> = {
  400: { code: 'VALIDATION_FAILED', title: 'Request validation failed', detail: "/body must have required property 'email'", errors: [{ path: '/body/email', message: "must have required property 'email'" }] },
  401: { code: 'UNAUTHENTICATED', title: 'Authentication required', detail: 'The API key is not known' },
  403: { code: 'FORBIDDEN', title: 'Not allowed', detail: 'this tenant may not run mutations through /graphql' },
  404: { code: 'NOT_FOUND', title: 'Not found', detail: 'customer 1001 does not exist' },
  409: { code: 'CONFLICT', title: 'Already exists', detail: 'Fluent says this entity already exists', upstream: { status: 200, codes: ['C0123E'], messages: ['Unique constraint violation'] } },
  413: { code: 'PAYLOAD_TOO_LARGE', title: 'Request body too large', detail: 'Request body is too large' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', title: 'Unsupported media type', detail: 'Unsupported Media Type: text/plain' },
  422: { code: 'UPSTREAM_REJECTED', title: 'Fluent rejected the request', detail: 'Retailer 99 not found', upstream: { status: 200, codes: ['C0100E'], messages: ['Retailer 99 not found'] } },
  429: { code: 'RATE_LIMITED', title: 'Too many requests', detail: 'Fluent is rate limiting this account' },
  502: { code: 'UPSTREAM_UNAVAILABLE', title: 'Fluent is unavailable', detail: 'Fluent failed (HTTP 503)', upstream: { status: 503, codes: [], messages: [] } },
  503: { code: 'UNAVAILABLE', title: 'Service unavailable', detail: 'The gateway is overloaded; retry shortly' },
  504: { code: 'UPSTREAM_TIMEOUT', title: 'Fluent did not answer in time', detail: 'Fluent did not answer in time' }
}

function exampleProblem (status: number): Problem {
  const { code, title, detail, ...extras } = EXAMPLES[status] ?? { code: 'INTERNAL', title: 'Error', detail: 'something went wrong' }
  return {
    type: `urn:fluent-rest-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    title,
    status,
    detail,
    instance: '/customers',
    code,
    requestId: '2f1c7a3e-6a1b-4f57-9e0e-7d7c0f7f3b1a',
    ...extras
  }
}

/** Problem responses by status, for a route's `response` schema. */
export function problemResponses (...statuses: number[]): Record<number, ProblemResponse> {
  const descriptions: Record<number, string> = {
    400: 'The request failed validation (VALIDATION_FAILED); nothing was sent to Fluent',
    401: 'No or unknown API key (UNAUTHENTICATED)',
    403: 'The tenant may not do this, or Fluent says its account lacks the permission (FORBIDDEN)',
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
    content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema), example: exampleProblem(status) } }
  }]))
}
