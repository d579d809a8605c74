// The commitThenFail fault: the next mutations are executed (committed to the store), then their answer is lost.
import { parse, type DocumentNode } from 'graphql'
import type { ServerResponse } from 'node:http'
import type { CommitThenFail, Faults } from './types.js'

/** Checks the commitThenFail value of a PATCH /_sim/faults body; returns what is wrong with it, or null. */
export function commitThenFailProblem (value: unknown): string | null {
  if (value === null) return null
  if (typeof value !== 'object' || Array.isArray(value)) return 'commitThenFail must be an object or null'
  const { mode, times } = value as Record<string, unknown>
  if (mode !== 'drop' && mode !== '502') return "commitThenFail.mode must be 'drop' or '502'"
  if (times !== undefined && (!Number.isInteger(times) || (times as number) < 1)) return 'commitThenFail.times must be a positive integer'
  return null
}

function isMutation (query: string, operationName: string | null | undefined): boolean {
  let document: DocumentNode
  try {
    document = parse(query)
  } catch {
    return false
  }
  const operations = document.definitions.filter((definition) => definition.kind === 'OperationDefinition')
  const chosen = operations.length === 1 ? operations[0] : operations.find((operation) => operation.name?.value === operationName)
  return chosen?.operation === 'mutation'
}

/** Takes one use of the fault when this request is a mutation; the fault leaves once its times are spent. */
export function takeCommitThenFail (faults: Faults, query: string, operationName: string | null | undefined): CommitThenFail | undefined {
  const fault = faults.commitThenFail
  if (fault === null || !isMutation(query, operationName)) return undefined
  fault.times = (fault.times ?? 1) - 1
  if (fault.times <= 0) faults.commitThenFail = null
  return fault
}

/** Loses the answer of a committed mutation: the connection is cut ('drop') or a proxy's 502 comes back instead. */
export function failAfterCommit (res: ServerResponse, fault: CommitThenFail): void {
  if (fault.mode === 'drop') {
    res.socket?.destroy()
    return
  }
  const body = JSON.stringify({ errors: [{ message: 'Simulated HTTP 502 after commit' }] })
  res.writeHead(502, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}
