// Tests of the limits a caller's GraphQL document must meet before /graphql sends it to Fluent.
import { describe, expect, it } from 'vitest'
import { checkDocument, DOCUMENT_LIMITS } from '../../src/routes/graphql-policy.js'

/** The error checkDocument throws, or undefined when the document passes. */
function refusal (query: string, operationName?: string, allowMutations = true): { code?: string, statusCode?: number, message: string } | undefined {
  try {
    checkDocument(query, operationName, allowMutations)
    return undefined
  } catch (error) {
    return error as { code?: string, statusCode?: number, message: string }
  }
}

/** `{ a { a { ... b } } }`, `depth` fields deep. */
function nested (depth: number): string {
  return `{ ${'a { '.repeat(depth - 1)}b${' }'.repeat(depth - 1)} }`
}

describe('checkDocument', () => {
  it('answers the kind of the selected operation and its name', () => {
    expect(checkDocument('{ me { id } }', undefined, true)).toEqual({ kind: 'query' })
    expect(checkDocument('query A { me { id } } mutation B { x }', 'B', true)).toEqual({ kind: 'mutation', operationName: 'B' })
    expect(checkDocument('query A { me { id } } mutation B { x }', 'A', true)).toEqual({ kind: 'query', operationName: 'A' })
  })

  it('remembers a passed document per operationName and mutation setting, never across them', () => {
    const document = 'query A { me { id } } mutation B { x }'
    expect(checkDocument(document, 'B', true)).toEqual({ kind: 'mutation', operationName: 'B' })
    // The same text passed for a tenant that may run mutations is still refused for one that may not.
    expect(refusal(document, 'B', false)).toMatchObject({ code: 'FORBIDDEN', statusCode: 403 })
    expect(refusal(document, 'A', false)).toMatchObject({ code: 'FORBIDDEN' })
    // A name and a query cannot be split differently into the memo's key: a comment line + query under the name 'A'
    // passed, and the query alone under the name 'A' + newline + that comment is checked for itself (no such operation).
    expect(checkDocument('#X\nquery A { me { id } }', 'A', true)).toEqual({ kind: 'query', operationName: 'A' })
    expect(refusal('query A { me { id } }', 'A\n#X', true)).toMatchObject({ code: 'VALIDATION_FAILED' })
    // Remembered answers are shared: callers cannot change what the next request gets.
    expect(Object.isFrozen(checkDocument(document, 'A', true))).toBe(true)
  })

  it('refuses a document over 100 KB with 413, counting bytes not characters', () => {
    const ascii = `{ me { id } } #${'x'.repeat(DOCUMENT_LIMITS.maxBytes)}`
    // 'é' is two bytes in UTF-8: under the limit in characters, over it in bytes.
    const multibyte = `{ me { id } } #${'é'.repeat(DOCUMENT_LIMITS.maxBytes / 2)}`

    expect(refusal(ascii)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 })
    expect(multibyte.length).toBeLessThan(DOCUMENT_LIMITS.maxBytes + 20)
    expect(refusal(multibyte)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' })
  })

  it.each([
    ['does not parse', 'query { me { id ', undefined, 'does not parse'],
    ['holds no operation', 'fragment F on Query { me { id } }', undefined, 'no operation'],
    ['holds two operations without operationName', 'query A { me { id } } query B { me { ref } }', undefined, 'operationName'],
    ['names an operation it lacks', 'query A { me { id } }', 'B', "'B'"],
    ['names an operation when its only one is anonymous', '{ me { id } }', 'A', "'A'"],
    ['is a subscription', 'subscription S { me { id } }', undefined, 'subscriptions'],
    ['has more tokens than the limit', `{ me { ${'id '.repeat(DOCUMENT_LIMITS.maxTokens)}} }`, undefined, 'tokens'],
    ['nests deeper than the limit', nested(DOCUMENT_LIMITS.maxDepth + 1), undefined, `${DOCUMENT_LIMITS.maxDepth + 1} levels`],
    ['nests deeper than the limit inside an inline fragment', `{ ... on Query ${nested(DOCUMENT_LIMITS.maxDepth + 1)} }`, undefined, 'levels'],
    ['nests deeper than the limit through a fragment', `{ a { ...F } } fragment F on X ${nested(DOCUMENT_LIMITS.maxDepth)}`, undefined, 'levels'],
    ['nests deeper than the limit in an operation it does not select', `query A { me { id } } query B ${nested(DOCUMENT_LIMITS.maxDepth + 1)}`, 'A', 'levels'],
    ['uses more aliases than the limit', `{ ${Array.from({ length: DOCUMENT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { id }`).join(' ')} }`, undefined, 'aliases'],
    ['uses more aliases than the limit inside fragments', `{ ...F } fragment F on Query { ${Array.from({ length: DOCUMENT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { id }`).join(' ')} }`, undefined, 'aliases']
  ])('refuses a document that %s with 400', (_what, query, operationName, detail) => {
    const error = refusal(query, operationName)

    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 })
    expect(error?.message).toContain(detail)
  })

  it('accepts a document at the depth and alias limits and just under the token limit', () => {
    const aliases = Array.from({ length: DOCUMENT_LIMITS.maxAliases }, (_, i) => `a${i}: me { id }`).join(' ')

    expect(refusal(nested(DOCUMENT_LIMITS.maxDepth))).toBeUndefined()
    expect(refusal(`{ ${aliases} }`)).toBeUndefined()
    expect(refusal(`{ me { ${'id '.repeat(DOCUMENT_LIMITS.maxTokens - 10)}} }`)).toBeUndefined()
  })

  describe('for a tenant without allowMutations', () => {
    it('refuses a mutation with 403', () => {
      expect(refusal('mutation { createCustomer(input: null) { id } }', undefined, false)).toMatchObject({ code: 'FORBIDDEN', statusCode: 403 })
    })

    it('refuses a document holding a mutation even when another operation is selected', () => {
      const query = 'query A { me { id } } mutation B { createCustomer(input: null) { id } }'

      expect(refusal(query, 'A', false)).toMatchObject({ code: 'FORBIDDEN', statusCode: 403 })
    })

    it('accepts queries', () => {
      expect(refusal('query A { me { id } }', 'A', false)).toBeUndefined()
    })
  })

  it('refuses fragment cycles with 400, which Fluent refuses anyway', () => {
    const error = refusal('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A me { id } }')

    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 })
    expect(error?.message).toContain('cycle')
  })

  it('counts the aliases of a fragment each time it is spread', () => {
    // 15 spreads of a fragment holding 15 aliases, under 15 aliased fields: 240 aliased fields run, from 30 written.
    const fragment = `fragment F on User { ${Array.from({ length: 15 }, (_, i) => `a${i}: id`).join(' ')} }`
    const spreads = (count: number): string => Array.from({ length: count }, (_, i) => `s${i}: me { ...F }`).join(' ')
    const error = refusal(`{ ${spreads(15)} } ${fragment}`)

    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', statusCode: 400 })
    expect(error?.message).toContain('240 aliases')
    // Two spreads and their fields: 32 > 30; one spread, twice in the same selection set, runs once: 15.
    expect(refusal(`{ ${spreads(2)} } ${fragment}`)?.message).toContain('32 aliases')
    expect(refusal(`{ me { ...F ...F } } ${fragment}`)).toBeUndefined()
  })

  it('counts aliases through nested fragments in linear time', () => {
    // Each fragment holds ten aliased fields, each spreading the next: 10^10 aliased fields as executed, from 2 KB.
    let query = '{ ...F0 }\n'
    for (let i = 0; i < 10; i++) {
      query += `fragment F${i} on Query { ${Array.from({ length: 10 }, (_, j) => `a${j}: me { ...F${i + 1} }`).join(' ')} }\n`
    }
    query += 'fragment F10 on Query { y: id }'
    let expected = 1
    for (let i = 0; i < 10; i++) expected = 10 + 10 * expected
    const started = performance.now()

    expect(refusal(query)?.message).toContain(`${expected} aliases`)
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('leaves out the aliases of a fragment no operation spreads', () => {
    const unused = `fragment F on Query { ${Array.from({ length: DOCUMENT_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: me { id }`).join(' ')} }`

    expect(refusal(`{ me { id } } ${unused}`)).toBeUndefined()
  })

  it('checks a small document whose fragments each spread the next twice in linear time', () => {
    // Without a memo the depth walk doubles at each level: 60 levels would be 2^60 visits from 3 KB of text.
    let query = '{ ...F0 }\n'
    for (let i = 0; i < 60; i++) query += `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }\n`
    query += 'fragment F60 on Query { me { id } }'
    const started = performance.now()

    expect(refusal(query)).toBeUndefined()
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('still counts the depth of a fragment spread at several places', () => {
    const fragment = `fragment F on Query ${nested(DOCUMENT_LIMITS.maxDepth - 1)}`

    expect(refusal(`{ x { ...F } y { ...F } } ${fragment}`)).toBeUndefined()
    expect(refusal(`{ x { ...F } y { z { ...F } } } ${fragment}`)).toMatchObject({ code: 'VALIDATION_FAILED' })
  })
})
