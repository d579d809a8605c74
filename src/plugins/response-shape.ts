// A response that does not fit its route's schema: the handler mapped Fluent's answer faithfully, so Fluent's answer is broken.
import { UpstreamUnavailableError } from '../errors.js'

/** fast-json-stringify's message for a missing required property: `"ref" is required!`. */
const MISSING_PROPERTY = /^"([^"]{1,100})" is required!$/

/**
 * The 502 for an error Fastify raised while serialising a reply (it marks those with `serialization`), or undefined
 * for any other error. Every route's response is built from Fluent's answer, so a required field that is missing
 * (a `me` without `ref`) is Fluent's broken answer, not a fault of the gateway; the cause is kept for the log.
 */
export function responseShapeError (error: Error & { serialization?: unknown }): InstanceType<typeof UpstreamUnavailableError> | undefined {
  if (error.serialization === undefined) return undefined
  const missing = MISSING_PROPERTY.exec(error.message)?.[1]
  const detail = missing === undefined
    ? 'Fluent\'s answer does not have the shape this endpoint answers with'
    : `Fluent's answer lacks the field '${missing}' this endpoint answers with`
  return new UpstreamUnavailableError(detail, { cause: error })
}
