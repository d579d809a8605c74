// One error handler for everything: validation, unknown routes, upstream failures, all as problem+json (RFC 9457).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isProblemCode, MethodNotAllowedError, PROBLEMS, problemType, type ProblemCode, type ProblemExtras, type ValidationIssue } from '../errors.js'
import type { Problem } from '../schemas/problem.js'
import { responseShapeError } from './response-shape.js'

/** Fastify's own client errors, mapped to the gateway's codes. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED'
}

/** Errors that carry only an HTTP status (Fastify plugins such as rate limiting or load shedding), keeping that status. */
const STATUS_CODES = new Map<number, ProblemCode>(Object.entries(PROBLEMS).flatMap(([code, row]) =>
  'forStatus' in row ? [[row.status, code as ProblemCode] as const] : []))

type GatewayError = FastifyError & ProblemExtras

function validationIssues (error: FastifyError): ValidationIssue[] {
  const context = error.validationContext ?? 'body'
  return (error.validation ?? []).map((issue) => {
    const params = issue.params as { missingProperty?: string, additionalProperty?: string }
    const property = params.missingProperty ?? params.additionalProperty
    const path = `/${context}${issue.instancePath}${property === undefined ? '' : `/${property}`}`
    const message = params.additionalProperty === undefined ? issue.message ?? 'is invalid' : 'is not a known property'
    return { path, message }
  })
}

/** The problem body and status for any error; unexpected errors and 5xx never show internals. */
export function toProblem (error: GatewayError, request: FastifyRequest): Problem {
  let code: ProblemCode
  let status: number
  let detail = error.message
  let errors: ValidationIssue[] | undefined = error.errors

  const fastifyCode = error.code === undefined ? undefined : FASTIFY_CODES[error.code]
  const statusCode = typeof error.statusCode === 'number' ? STATUS_CODES.get(error.statusCode) : undefined

  if (error.validation !== undefined) {
    code = 'VALIDATION_FAILED'
    status = 400
    errors = validationIssues(error)
    detail = errors.map((issue) => `${issue.path} ${issue.message}`).join('; ')
  } else if (isProblemCode(error.code) && typeof error.statusCode === 'number') {
    code = error.code
    status = error.statusCode
  } else if (fastifyCode !== undefined) {
    code = fastifyCode
    status = error.statusCode ?? 400
  } else if (statusCode !== undefined && typeof error.statusCode === 'number') {
    code = statusCode
    status = error.statusCode
    if (status >= 500) detail = 'The gateway cannot take this request now; retry after the time in Retry-After.'
  } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    code = 'VALIDATION_FAILED'
    status = 400
  } else {
    code = 'INTERNAL'
    status = 500
    detail = PROBLEMS.INTERNAL.example.detail
  }

  return {
    type: problemType(code),
    title: PROBLEMS[code].title,
    status,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    code,
    requestId: request.id,
    ...(errors === undefined ? {} : { errors }),
    ...(error.upstream === undefined ? {} : { upstream: error.upstream }),
    ...(error.stockLoad === undefined ? {} : { stockLoad: error.stockLoad })
  }
}

export function sendProblem (reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds))
  return reply.code(problem.status).type('application/problem+json; charset=utf-8').send(problem)
}

export default fp(async function errorsPlugin (app) {
  app.setErrorHandler(function handleError (raised: GatewayError, request, reply) {
    const error: GatewayError = responseShapeError(raised) ?? raised
    const problem = toProblem(error, request)
    if (problem.code === 'INTERNAL') {
      request.log.error({ err: error, code: problem.code }, 'request failed')
    } else if (problem.status >= 500) {
      // Expected while Fluent is down: counted, and logged once per code per window (plugins/upstream-failures.ts).
      if (this.hasDecorator('upstreamFailures')) this.upstreamFailures.record(request, problem.code, problem.status)
      else request.log.warn({ code: problem.code, status: problem.status }, 'request failed')
    } else {
      request.log.info({ code: problem.code, detail: problem.detail }, 'request refused')
    }
    // A plugin that refused the request (rate limit, load shedding) may have set its own Retry-After: keep it.
    const defaultRetryAfter = (problem.status === 429 || problem.status === 503) && !reply.hasHeader('retry-after') ? 1 : undefined
    const retryAfter = error.retryAfterSeconds ?? defaultRetryAfter
    return sendProblem(reply, problem, retryAfter)
  })

  app.setNotFoundHandler(function handleNotFound (request, reply) {
    // A known path asked with a method it lacks is a 405 naming the methods it has (plugins/allowed-methods.ts).
    const allowed = this.hasDecorator('allowedMethods') ? this.allowedMethods(request.url) : []
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(reply, toProblem(new MethodNotAllowedError(`${request.method} is not served here; use ${allowed.join(', ')}`), request))
    }
    const problem = toProblem(Object.assign(new Error(`no route ${request.method} ${request.url.split('?')[0] ?? ''}`), {
      code: 'NOT_FOUND', statusCode: 404, name: 'NotFound'
    }), request)
    return sendProblem(reply, problem)
  })
}, { name: 'errors' })
