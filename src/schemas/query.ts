// Query-string pieces shared by the list routes: comma lists, dates, and the Link rel="next" of a page.
import { Type, type TString } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'

/**
 * A comma list of refs (`A,B,C`), checked whole by one pattern so that a bad item is a 400 naming the parameter:
 * each item 1 to `itemLength` characters without a comma, at most `maxItems` items.
 */
export function CommaListSchema (options: { description: string, example: string, maxItems: number, itemLength?: number }): TString {
  const item = `[^,]{1,${options.itemLength ?? 100}}`
  return Type.String({
    minLength: 1,
    maxLength: options.maxItems * ((options.itemLength ?? 100) + 1),
    pattern: `^${item}(,${item}){0,${options.maxItems - 1}}$`,
    description: `${options.description}; a comma list of up to ${options.maxItems}`,
    examples: [options.example]
  })
}

/** The items of a comma list parameter, or undefined when it was not given. */
export function splitList (value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',')
}

export const UpdatedSinceSchema = Type.String({
  format: 'date-time',
  description: 'only what changed at or after this time, ISO 8601 with a time zone',
  examples: ['2026-01-01T00:00:00Z']
})

/** A single ref in a query string or path. */
export function RefSchema (description: string, example: string): TString {
  return Type.String({ minLength: 1, maxLength: 100, description, examples: [example] })
}

/** The Link header of a page response, documented with an example. */
export function linkHeader (example: string): { link: { type: 'string', description: string, examples: string[] } } {
  return { link: { type: 'string', description: 'the next page, when there is one', examples: [example] } }
}

/** Sets Link rel="next" to the same list with the next cursor, keeping the caller's other parameters. */
export function linkNext (reply: FastifyReply, path: string, query: Record<string, string | number | undefined>, nextCursor: string | null): void {
  if (nextCursor === null) return
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && name !== 'cursor') params.set(name, String(value))
  }
  params.set('cursor', nextCursor)
  reply.header('link', `<${path}?${params.toString()}>; rel="next"`)
}
