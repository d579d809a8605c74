// The input policy of POST /graphql: what a caller's document may be before it is sent to Fluent (size, tokens, depth, aliases, one operation, mutations).
import { GraphQLError, Kind, parse, type DefinitionNode, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql'
import { ForbiddenError, PayloadTooLargeError, ValidationFailedError } from '../errors.js'

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

/**
 * Depth of a selection set, fragments included. Each fragment's depth is computed once (memo): spreading the same
 * fragment twice per level would otherwise double the walk at every level, and a 1 KB document could cost hours of CPU.
 */
function depthOf (selectionSet: SelectionSetNode | undefined, fragments: Map<string, SelectionSetNode>, memo: Map<string, number>, visiting: Set<string>): number {
  if (selectionSet === undefined) return 0
  let deepest = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, fragments, memo, visiting))
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, memo, visiting))
    } else {
      const name = selection.name.value
      let depth = memo.get(name)
      // A fragment cycle is invalid GraphQL (Fluent refuses it); `visiting` just keeps this walk finite.
      if (depth === undefined && !visiting.has(name)) {
        visiting.add(name)
        depth = depthOf(fragments.get(name), fragments, memo, visiting)
        visiting.delete(name)
        memo.set(name, depth)
      }
      deepest = Math.max(deepest, depth ?? 0)
    }
  }
  return deepest
}

function countAliases (document: DocumentNode): number {
  let aliases = 0
  const visit = (selectionSet: SelectionSetNode | undefined): void => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD && selection.alias !== undefined) aliases++
      if (selection.kind !== Kind.FRAGMENT_SPREAD) visit(selection.selectionSet)
    }
  }
  for (const definition of document.definitions) {
    if ('selectionSet' in definition) visit(definition.selectionSet)
  }
  return aliases
}

function isOperation (definition: DefinitionNode): definition is OperationDefinitionNode {
  return definition.kind === Kind.OPERATION_DEFINITION
}

/** Checks a caller's document against every limit; throws 400, 403 or 413 before anything reaches Fluent. */
export function checkDocument (query: string, operationName: string | undefined, allowMutations: boolean): CheckedDocument {
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

  const fragments = new Map(document.definitions.flatMap((definition) =>
    definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition.selectionSet] as const] : []))
  const memo = new Map<string, number>()
  for (const operation of operations) {
    const depth = depthOf(operation.selectionSet, fragments, memo, new Set())
    if (depth > DOCUMENT_LIMITS.maxDepth) {
      throw new ValidationFailedError(`the GraphQL document nests ${depth} levels deep; the limit is ${DOCUMENT_LIMITS.maxDepth}`)
    }
  }
  const aliases = countAliases(document)
  if (aliases > DOCUMENT_LIMITS.maxAliases) {
    throw new ValidationFailedError(`the GraphQL document uses ${aliases} aliases; the limit is ${DOCUMENT_LIMITS.maxAliases}`)
  }

  return {
    kind: selected?.operation === 'mutation' ? 'mutation' : 'query',
    ...(operationName === undefined ? {} : { operationName })
  }
}
