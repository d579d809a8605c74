// The problem+json body (RFC 9457) every error answers with, as documented in OpenAPI.
import { Type, type Static } from '@sinclair/typebox'
import { PROBLEMS, problemType, type ProblemCode } from '../errors.js'

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
  }, { description: 'what Fluent said, for failures on the Fluent side' })),
  stockLoad: Type.Optional(Type.Object({
    jobId: Type.String({ description: 'the Fluent job the load created', examples: ['42'] }),
    entities: Type.Integer({ description: 'entities in the batches Fluent accepted', examples: [10000] }),
    batches: Type.Array(Type.Object({
      id: Type.String({ description: 'Fluent batch id', examples: ['7'] }),
      entities: Type.Integer({ description: 'entities in this batch', examples: [5000] }),
      status: Type.String({ description: 'the batch status when it was accepted', examples: ['PENDING'] })
    }), { description: 'the batches Fluent accepted before the failure, in order' })
  }, { description: 'for a PUT /stock that failed after its job was created: what had already been sent (never retried)' }))
}, { $id: 'Problem', title: 'Problem', description: 'An error, as application/problem+json (RFC 9457)' })

export type Problem = Static<typeof ProblemSchema>

interface ProblemResponse {
  description: string
  headers?: Record<string, { description: string, type: 'integer', examples: number[] }>
  content: { 'application/problem+json': { schema: ReturnType<typeof Type.Ref>, example: Problem } }
}

const ROWS = Object.entries(PROBLEMS) as Array<[ProblemCode, (typeof PROBLEMS)[ProblemCode]]>

/** The example of a status: its catalogue row that stands for the bare status, else its first row. */
function exampleProblem (status: number): Problem {
  const rows = ROWS.filter(([, row]) => row.status === status)
  const [code, row] = rows.find(([, candidate]) => 'forStatus' in candidate) ?? rows[0] ?? ['INTERNAL', PROBLEMS.INTERNAL]
  return {
    type: problemType(code),
    title: row.title,
    status,
    instance: '/customers',
    code,
    requestId: '2f1c7a3e-6a1b-4f57-9e0e-7d7c0f7f3b1a',
    ...row.example
  }
}

/** "<when> (CODE)" for every catalogue row of the status, so each response in /docs names the codes it can carry. */
function describeStatus (status: number): string {
  const text = ROWS.filter(([, row]) => row.status === status).map(([code, row]) => `${row.when.replaceAll('`', '')} (${code})`).join('; ')
  return text === '' ? 'Error' : text.charAt(0).toUpperCase() + text.slice(1)
}

/** Problem responses by status, for a route's `response` schema. */
export function problemResponses (...statuses: number[]): Record<number, ProblemResponse> {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: describeStatus(status),
    ...(status === 429 || status === 503 ? { headers: { 'retry-after': { description: 'seconds to wait before trying again', type: 'integer' as const, examples: [5] } } } : {}),
    content: { 'application/problem+json': { schema: Type.Ref(ProblemSchema), example: exampleProblem(status) } }
  }]))
}
