// Stock file rows as they arrive: CSV (csv-parse) or JSON (@streamparser/json) over a byte-counted stream, each row
// checked on its own, so a bad row is named by line and column (CSV) or item index (JSON) without holding the file.
import type { Hash } from 'node:crypto'
import { TokenParser, TokenType, Tokenizer } from '@streamparser/json'
import { CsvError, Parser } from 'csv-parse'
import { PayloadTooLargeError, ValidationFailedError, withExtras, type ValidationIssue } from '../errors.js'

/** Where rows go as they are read: valid ones to `row`, bad ones to `issue` (which answers true to stop reading). */
export interface RowSink {
  row: (productRef: string, locationRef: string, quantity: number) => void
  issue: (issue: ValidationIssue) => boolean
  /** Awaited after each chunk of the body when it answers a promise (the spool catching up). */
  settle?: () => Promise<void> | undefined
}

/** Either a valid row or what is wrong with one. */
type ParsedRow = { row: { productRef: string, locationRef: string, quantity: number } } | { issue: ValidationIssue }

const COLUMNS = ['productRef', 'locationRef', 'quantity'] as const
/** A bound on refs, so a runaway field (a missing closing quote) is one issue, not a 40 MB ref. */
export const MAX_REF_LENGTH = 255
/** Fluent's Int. */
const MAX_QUANTITY = 2_147_483_647

/** The body's bytes, refused with 413 as soon as they pass `limit`: counted on the stream, whatever Content-Length said. */
export async function * limitBytes (source: AsyncIterable<Buffer | string>, limit: number, digest?: Hash): AsyncGenerator<Buffer> {
  let size = 0
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buffer.length
    if (size > limit) throw new PayloadTooLargeError(`the stock file is larger than the ${limit} bytes allowed (STOCK_UPLOAD_LIMIT_BYTES)`)
    // The bytes as they came are the upload's Idempotency-Key fingerprint.
    digest?.update(buffer)
    yield buffer
  }
}

function refProblem (value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return 'is required'
  if (value.length > MAX_REF_LENGTH) return `must be at most ${MAX_REF_LENGTH} characters`
  return null
}

function quote (value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)
}

/** One structural failure (a bad header, broken CSV or JSON): a 400 with one issue. */
function rejected (path: string, message: string): Error {
  return withExtras(new ValidationFailedError(message), { errors: [{ path, message }] })
}

/** csv-parse's parser without its stream: records are pushed synchronously while `info.lines` is the record's line. */
interface CsvApi {
  info: { lines: number }
  parse: (chunk: Buffer | undefined, end: boolean, push: (record: string[]) => void, close: () => void) => Error | undefined
}

const CSV_OPTIONS = { bom: true, trim: true, relax_column_count: true, skip_empty_lines: true, max_record_size: 64 * 1024 }

function csvFailure (error: Error): Error {
  if (error instanceof CsvError) {
    const line = (error as CsvError & { lines?: number }).lines
    return rejected(`/body/line/${line ?? 0}`, `line ${line ?? '?'}: ${error.message.replace(/^[^:]*: /, '')}`)
  }
  return error
}

/**
 * CSV rows. The header row names the columns (any order, each of productRef, locationRef, quantity exactly once); a
 * UTF-8 BOM, quoted fields, CRLF or LF line ends and blank lines are taken. csv-parse's parsing core is driven a chunk
 * at a time, and its running line count read as each record is pushed: no per-record `info` object, no stream of
 * records, no promise per row.
 */
export async function readCsv (source: AsyncIterable<Buffer>, sink: RowSink): Promise<void> {
  const api = (new Parser(CSV_OPTIONS) as unknown as { api: CsvApi }).api
  let order: number[] | undefined
  let stopped = false
  const push = (record: string[]): void => {
    if (stopped) return
    const line = api.info.lines
    if (order === undefined) {
      order = headerOrder(record)
      return
    }
    if (record.length !== order.length) {
      stopped = sink.issue({ path: `/body/line/${line}`, message: `line ${line}: has ${record.length} fields where the header has ${order.length}` })
      return
    }
    stopped = csvRow(record, order, line, sink)
  }
  const close = (): void => {}
  for await (const chunk of source) {
    const error = api.parse(chunk, false, push, close)
    if (error !== undefined) throw csvFailure(error)
    if (stopped) return
    const settling = sink.settle?.()
    if (settling !== undefined) await settling
  }
  const error = api.parse(undefined, true, push, close)
  if (error !== undefined) throw csvFailure(error)
  if (order === undefined) throw rejected('/body/line/1', `line 1: the header row (${COLUMNS.join(',')}) is missing`)
}

/** For each of COLUMNS, the index of its field in a row. */
function headerOrder (header: string[]): number[] {
  const indexes = new Map<string, number>()
  header.forEach((name, index) => {
    const column = COLUMNS.find((candidate) => candidate.toLowerCase() === name.toLowerCase())
    if (column === undefined) {
      throw rejected(`/body/line/1/column/${index + 1}`, `line 1, column ${index + 1}: unknown column ${quote(name)}; the header row names ${COLUMNS.join(', ')}`)
    }
    if (indexes.has(column)) throw rejected(`/body/line/1/column/${index + 1}`, `line 1, column ${index + 1}: ${column} appears twice`)
    indexes.set(column, index)
  })
  const missing = COLUMNS.filter((column) => !indexes.has(column))
  if (missing.length > 0) throw rejected('/body/line/1', `line 1: the header row lacks ${missing.join(', ')}`)
  // More than three columns cannot pass the checks above, so every row has exactly these three.
  return COLUMNS.map((column) => indexes.get(column) as number)
}

/** Checks one record; a valid row goes to the sink. Answers true when the sink says to stop. */
function csvRow (record: string[], order: number[], line: number, sink: RowSink): boolean {
  const [productIndex, locationIndex, quantityIndex] = order as [number, number, number]
  const productRef = record[productIndex] ?? ''
  const locationRef = record[locationIndex] ?? ''
  const quantity = record[quantityIndex] ?? ''
  const at = (index: number, column: string, problem: string): boolean =>
    sink.issue({ path: `/body/line/${line}/column/${index + 1}`, message: `line ${line}, column ${index + 1} (${column}): ${problem}` })
  const productProblem = refProblem(productRef)
  if (productProblem !== null) return at(productIndex, 'productRef', productProblem)
  const locationProblem = refProblem(locationRef)
  if (locationProblem !== null) return at(locationIndex, 'locationRef', locationProblem)
  if (!/^\d{1,10}$/.test(quantity) || Number(quantity) > MAX_QUANTITY) {
    return at(quantityIndex, 'quantity', `must be a non-negative integer, got ${quote(quantity)}`)
  }
  sink.row(productRef, locationRef, Number(quantity))
  return false
}

function jsonItem (value: unknown, index: number): ParsedRow {
  const at = (field: string, problem: string): ParsedRow =>
    ({ issue: { path: `/body/items/${index}${field === '' ? '' : `/${field}`}`, message: `items[${index}]${field === '' ? '' : `.${field}`} ${problem}` } })
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return at('', 'must be an object')
  const item = value as Record<string, unknown>
  const unknown = Object.keys(item).find((key) => !(COLUMNS as readonly string[]).includes(key))
  if (unknown !== undefined) return at(unknown, 'is not a known property')
  for (const field of ['productRef', 'locationRef'] as const) {
    const problem = refProblem(item[field])
    if (problem !== null) return at(field, typeof item[field] === 'string' || item[field] === undefined ? problem : 'must be a string')
  }
  const quantity = item.quantity
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 0 || quantity > MAX_QUANTITY) {
    return at('quantity', quantity === undefined ? 'is required' : 'must be a non-negative integer')
  }
  return { row: { productRef: item.productRef as string, locationRef: item.locationRef as string, quantity } }
}

/**
 * JSON rows of `{"items": [{productRef, locationRef, quantity}, ...]}`. The tokenizer's tokens are watched at the top
 * level (an object with `items` only, an array there) and the parser keeps no finished item: memory holds one item.
 */
export async function readJson (source: AsyncIterable<Buffer>, sink: RowSink): Promise<void> {
  const tokenizer = new Tokenizer()
  const parser = new TokenParser({ paths: ['$.items.*'], keepStack: false })
  const ready: ParsedRow[] = []
  let failure: Error | undefined
  let depth = 0
  let expectKey = false
  let sawItems = false
  let itemsNext = false
  let index = 0

  const fail = (message: string): void => {
    failure ??= rejected('/body', message)
  }
  tokenizer.onToken = (token) => {
    if (failure !== undefined) return
    const { token: type, value, offset } = token
    if (depth === 0 && type !== TokenType.LEFT_BRACE) {
      fail('the body must be a JSON object {"items": [...]}')
      return
    }
    if (depth === 1) {
      if (expectKey && type === TokenType.STRING) {
        if (value !== 'items') {
          failure = rejected(`/body/${String(value)}`, `/body/${String(value)} is not a known property`)
          return
        }
        sawItems = true
        itemsNext = true
      } else if (itemsNext && type !== TokenType.COLON) {
        itemsNext = false
        if (type !== TokenType.LEFT_BRACKET) {
          failure = rejected('/body/items', '/body/items must be an array')
          return
        }
      }
      expectKey = type === TokenType.LEFT_BRACE || type === TokenType.COMMA
    }
    if (type === TokenType.LEFT_BRACE || type === TokenType.LEFT_BRACKET) {
      depth++
      if (depth === 1) expectKey = true
    } else if (type === TokenType.RIGHT_BRACE || type === TokenType.RIGHT_BRACKET) {
      depth--
    }
    try {
      parser.write(token)
    } catch (error) {
      fail(`the body is not valid JSON near byte ${offset}: ${(error as Error).message}`)
    }
  }
  tokenizer.onError = (error) => { fail(`the body is not valid JSON: ${error.message}`) }
  parser.onError = (error) => { fail(`the body is not valid JSON: ${error.message}`) }
  parser.onValue = ({ value }) => { ready.push(jsonItem(value, index++)) }
  // The tokenizer ends itself after the top-level value; anything after it is an error it reports.
  tokenizer.onEnd = () => {}

  for await (const chunk of source) {
    try {
      tokenizer.write(chunk)
    } catch (error) {
      fail(`the body is not valid JSON: ${(error as Error).message}`)
    }
    if (failure !== undefined) throw failure
    if (deliver(ready, sink)) return
    const settling = sink.settle?.()
    if (settling !== undefined) await settling
  }
  if (!tokenizer.isEnded) {
    try {
      tokenizer.end()
    } catch (error) {
      fail(`the body is not valid JSON: ${(error as Error).message}`)
    }
  }
  if (failure === undefined && (!tokenizer.isEnded || depth !== 0)) fail('the body ends before its JSON does')
  if (failure === undefined && !sawItems) failure = rejected('/body/items', "/body must have required property 'items'")
  if (failure !== undefined) throw failure
  deliver(ready, sink)
}

/** Hands the rows read so far to the sink and empties the list; answers true when the sink says to stop. */
function deliver (ready: ParsedRow[], sink: RowSink): boolean {
  for (const parsed of ready) {
    if ('issue' in parsed) {
      if (sink.issue(parsed.issue)) return true
    } else {
      sink.row(parsed.row.productRef, parsed.row.locationRef, parsed.row.quantity)
    }
  }
  ready.length = 0
  return false
}
