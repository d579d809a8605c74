// Schemas shared by several routes: custom attributes and cursor pages.
import { Type, type Static, type TNull, type TSchema, type TString, type TUnion } from '@sinclair/typebox'

/** A string that Fluent may leave null, documented with one example. */
export function NullableString (description: string, example: string): TUnion<[TString, TNull]> {
  return Type.Union([Type.String(), Type.Null()], { description, examples: [example] })
}

export const AttributeSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'attribute name', examples: ['loyaltyTier'] }),
  type: Type.String({ minLength: 1, description: 'Fluent attribute type, e.g. STRING, INTEGER, JSON', examples: ['STRING'] }),
  value: Type.Unknown({ description: 'the value, any JSON', examples: ['GOLD'] })
}, { additionalProperties: false, description: 'a custom attribute, as Fluent holds it' })

export type Attribute = Static<typeof AttributeSchema>

/** An attribute in a request body: Fluent's AttributeInput.value is Json!, so a null value is refused here rather than by Fluent. */
const AttributeInputSchema = Type.Object({
  name: Type.String({ minLength: 1, description: 'attribute name', examples: ['loyaltyTier'] }),
  type: Type.String({ minLength: 1, description: 'Fluent attribute type, e.g. STRING, INTEGER, JSON', examples: ['STRING'] }),
  value: Type.Not(Type.Null(), { description: 'the value, any JSON but null', examples: ['GOLD'] })
}, { additionalProperties: false, description: 'a custom attribute, sent to Fluent as given' })

export const AttributesSchema = Type.Array(AttributeInputSchema, {
  maxItems: 200,
  description: 'custom attributes',
  examples: [[{ name: 'loyaltyTier', type: 'STRING', value: 'GOLD' }]]
})

export const PageQuerySchema = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'page size, 1 to 100', examples: [20] }),
  // No example: Swagger UI would fill it in, and a made-up cursor skips results.
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'opaque cursor from nextCursor of the previous page; leave out for the first page' }))
}

/** A page of items: `nextCursor` is null on the last page; the same cursor also comes as a Link rel="next" header. */
export function PageSchema<T extends TSchema> (item: T, description: string) {
  return Type.Object({
    items: Type.Array(item, { description }),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor to get the next page; null on the last page', examples: ['Y3Vyc29yOjEwMjA='] })
  })
}

/** Fluent's Relay connection, as the gateway selects it: the next cursor is the last edge's (there is no endCursor). */
export interface Connection<N> {
  edges?: Array<{ cursor?: string | null, node?: N | null } | null> | null
  pageInfo?: { hasNextPage?: boolean | null } | null
}

export function flattenConnection<N, T> (connection: Connection<N> | null | undefined, map: (node: N) => T): { items: T[], nextCursor: string | null } {
  const edges = (connection?.edges ?? []).filter((edge) => edge?.node !== undefined && edge?.node !== null)
  const last = edges.at(-1)
  return {
    items: edges.map((edge) => map(edge?.node as N)),
    nextCursor: connection?.pageInfo?.hasNextPage === true && typeof last?.cursor === 'string' ? last.cursor : null
  }
}

/** Leaves out the keys whose value is undefined, so optional fields a caller did not give are not sent to Fluent at all. */
export function defined<T extends Record<string, unknown>> (object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Partial<T>
}
