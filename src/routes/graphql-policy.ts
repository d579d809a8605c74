// The input policy of POST /graphql: what a caller's document may be before it is sent to Fluent (size, tokens, depth, aliases, one operation, mutations).
import { GraphQLError, Kind, parse, type DefinitionNode, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql'
import { ForbiddenError, PayloadTooLargeError, ValidationFailedError } from '../errors.js'
import { BoundedMemo } from '../memo.js'

export const DOCUMENT_LIMITS = {
  /** Fluent's own body limit is 2 MB; no useful hand-written query comes near 100 KB. */
  maxBytes: 100 * 1024,
  /** Bounds parse cost: a document with more lexical tokens is refused while parsing. */
  maxTokens: 5_000,
  /** Deeper nesting than this is a runaway query, not an integration. */
  maxDepth: 12,
  maxAliases: 30
} as const

export interface CheckedDocument {
  kind: 'query' | 'mutation'
  operationName?: string
}

/** What a selection set costs as executed, its fragments expanded: how deep it nests and how many aliased fields it runs. */
interface Cost {
  depth: number
  aliases: number
}

/**
 * Measures selection sets as Fluent would execute them: a fragment counts wherever it is spread, as often as it is
 * spread. Each fragment is measured once (memo), so a fragment spreading the next twice, 60 levels down, costs 60
 * visits, not 2^60; the numbers it answers may still be that large, and are compared with the limits, never walked.
 */
class DocumentCost {
  readonly #fragments: Map<string, SelectionSetNode>
  readonly #memo = new Map<string, Cost>()
  readonly #visiting = new Set<string>()

  constructor (document: DocumentNode) {
    this.#fragments = new Map(document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition.selectionSet] as const] : []))
  }

  /** `spread`: fragments already spread into this selection set; GraphQL runs a fragment spread twice in one set once. */
  of (selectionSet: SelectionSetNode | undefined, spread = new Set<string>()): Cost {
    const cost = { depth: 0, aliases: 0 }
    for (const selection of selectionSet?.selections ?? []) {
      let inner: Cost
      if (selection.kind === Kind.FIELD) {
        const sub = this.of(selection.selectionSet)
        inner = { depth: 1 + sub.depth, aliases: sub.aliases + (selection.alias === undefined ? 0 : 1) }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = this.of(selection.selectionSet, spread)
      } else if (spread.has(selection.name.value)) {
        continue
      } else {
        spread.add(selection.name.value)
        inner = this.#fragment(selection.name.value)
      }
      cost.depth = Math.max(cost.depth, inner.depth)
      cost.aliases += inner.aliases
    }
    return cost
  }

  #fragment (name: string): Cost {
    const known = this.#memo.get(name)
    if (known !== undefined) return known
    // A cycle would make the document infinite as executed; GraphQL forbids it (and Fluent refuses it).
    if (this.#visiting.has(name)) throw new ValidationFailedError(`the GraphQL document spreads fragment '${name}' inside itself (a cycle)`)
    this.#visiting.add(name)
    // An unknown fragment costs nothing here; Fluent refuses the document.
    const cost = this.of(this.#fragments.get(name))
    this.#visiting.delete(name)
    this.#memo.set(name, cost)
    return cost
  }
}

function isOperation (definition: DefinitionNode): definition is OperationDefinitionNode {
  return definition.kind === Kind.OPERATION_DEFINITION
}

/**
 * Integrations send the same few documents over and over, only their variables change: a document that passed is
 * remembered (by its text, operationName and the tenant's mutation setting), so it is parsed and measured once, not on
 * every request. A refused document throws, so it is never remembered and is checked again each time.
 */
const PASSED = new BoundedMemo<CheckedDocument>(500, 8 * 1024)

/** Checks a caller's document against every limit; throws 400, 403 or 413 before anything reaches Fluent. */
export function checkDocument (query: string, operationName: string | undefined, allowMutations: boolean): CheckedDocument {
  // The name's length first, so no name and query can be split differently into the same key.
  const key = `${allowMutations ? 'm' : 'q'}${operationName === undefined ? '-' : `${operationName.length}:${operationName}`}\n${query}`
  return PASSED.get(key, () => Object.freeze(checkedDocument(query, operationName, allowMutations)))
}

function checkedDocument (query: string, operationName: string | undefined, allowMutations: boolean): CheckedDocument {
  if (Buffer.byteLength(query) > DOCUMENT_LIMITS.maxBytes) {
    throw new PayloadTooLargeError(`the GraphQL document is over ${DOCUMENT_LIMITS.maxBytes / 1024} KB`)
  }
  let document: DocumentNode
  try {
    document = parse(query, { noLocation: true, maxTokens: DOCUMENT_LIMITS.maxTokens })
  } catch (error) {
    throw new ValidationFailedError(`the GraphQL document does not parse: ${error instanceof GraphQLError ? error.message : 'syntax error'}`)
  }

  const operations = document.definitions.filter(isOperation)
  if (operations.length === 0) throw new ValidationFailedError('the GraphQL document holds no operation')
  if (!allowMutations && operations.some((operation) => operation.operation === 'mutation')) {
    throw new ForbiddenError('this tenant may not run mutations through /graphql')
  }
  if (operations.some((operation) => operation.operation === 'subscription')) {
    throw new ValidationFailedError('subscriptions are not supported')
  }

  let selected: OperationDefinitionNode | undefined
  if (operationName === undefined) {
    if (operations.length > 1) throw new ValidationFailedError('the document holds several operations: name one with operationName')
    selected = operations[0]
  } else {
    selected = operations.find((operation) => operation.name?.value === operationName)
    if (selected === undefined) throw new ValidationFailedError(`the document has no operation named '${operationName}'`)
  }

  // Every operation is measured, the selected one and the others alike, each as it would be executed.
  const cost = new DocumentCost(document)
  for (const operation of operations) {
    const { depth, aliases } = cost.of(operation.selectionSet)
    if (depth > DOCUMENT_LIMITS.maxDepth) {
      throw new ValidationFailedError(`the GraphQL document nests ${depth} levels deep; the limit is ${DOCUMENT_LIMITS.maxDepth}`)
    }
    if (aliases > DOCUMENT_LIMITS.maxAliases) {
      throw new ValidationFailedError(`the GraphQL document uses ${aliases} aliases as executed, fragments expanded; the limit is ${DOCUMENT_LIMITS.maxAliases}`)
    }
  }

  return {
    kind: selected?.operation === 'mutation' ? 'mutation' : 'query',
    ...(operationName === undefined ? {} : { operationName })
  }
}
