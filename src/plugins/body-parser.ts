// The only request body parser: JSON in UTF-8, nested at most MAX_JSON_DEPTH levels; any other media type is a 415.
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { UnsupportedMediaTypeError, ValidationFailedError } from '../errors.js'

/** Deepest nesting of arrays and objects a JSON body may have; the body itself is level 1. No REST or GraphQL input needs more. */
export const MAX_JSON_DEPTH = 32

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d

/**
 * Whether raw JSON bytes nest arrays and objects deeper than `limit`, counted outside strings (escapes honoured).
 * One pass over the bytes, stopping at the first level too deep: JSON.parse never builds the structure, so a 10,000-deep
 * body can neither overflow JSON.stringify's stack later nor cost the parse. UTF-8 continuation bytes are all >= 0x80,
 * so they never look like a quote, bracket or backslash. Malformed input is left for JSON.parse to refuse.
 */
export function nestsDeeperThan (bytes: Uint8Array, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]
    if (inString) {
      if (byte === BACKSLASH) index++
      else if (byte === QUOTE) inString = false
    } else if (byte === QUOTE) {
      inString = true
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > limit) return true
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--
    }
  }
  return false
}

/** The charset parameter of a Content-Type, lower-cased and unquoted; undefined when there is none. */
export function charsetOf (contentType: string | undefined): string | undefined {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const separator = parameter.indexOf('=')
    if (separator === -1 || parameter.slice(0, separator).trim().toLowerCase() !== 'charset') continue
    return parameter.slice(separator + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase()
  }
  return undefined
}

const UTF8 = new Set(['utf-8', 'utf8'])

export default fp(async function bodyParserPlugin (app) {
  // Fastify's own JSON parser behind the checks: its 400 for empty and malformed bodies, its proto-poisoning refusal.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  // Fastify's text/plain parser goes too: a body that is not JSON is a 415, never text a JSON schema then refuses.
  // A route that takes another type (text/csv for PUT /stock) adds its own parser in its own context.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, function parseJsonBody (request: FastifyRequest, body: Buffer, done) {
    const charset = charsetOf(request.headers['content-type'])
    if (charset !== undefined && !UTF8.has(charset)) {
      done(new UnsupportedMediaTypeError(`JSON bodies must be UTF-8, not charset ${charset.slice(0, 40)}`), undefined)
      return
    }
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(new ValidationFailedError(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined)
      return
    }
    parseJson(request, body.toString('utf8'), done)
  })
}, { name: 'body-parser' })
