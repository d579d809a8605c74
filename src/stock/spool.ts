// A temporary file of validated stock rows, so a whole upload is checked before Fluent sees any of it, and memory
// stays flat: each row is spooled as its final Fluent INVENTORY entity (one JSON line, already serialised), and a
// batch body is those lines joined by commas inside the batch's frame, copied into one reused buffer.
import { randomUUID } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_REF_LENGTH } from './rows.js'

/** Every spool file's name starts so (tests and operators can find strays). */
export const SPOOL_PREFIX = 'fgw-stock-'
/** Lines are written in chunks of about this size rather than one write per row. */
const WRITE_CHUNK = 64 * 1024
/** The spool is read back this much at a time. */
const READ_CHUNK = 64 * 1024
/** A ref that JSON must escape (quote, backslash, control character) or that holds a surrogate (a lone one is escaped). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/
const NEWLINE = 0x0a

/** A batch body ready to send, and how many entities it holds. Its bytes are overwritten when the next is asked for. */
export interface SpooledBatch {
  body: Buffer
  entities: number
}

export class StockSpool {
  readonly path: string
  readonly #out: WriteStream
  // Lines are encoded straight into buffers outside the JS heap: strings per row would survive young-generation
  // collections and pile up in the old generation. A full buffer goes to the file and comes back once written.
  #buffer: Buffer = Buffer.allocUnsafeSlow(WRITE_CHUNK)
  readonly #free: Buffer[] = []
  #used = 0
  #rows = 0
  #failure: Error | undefined
  readonly #locationPart = Buffer.from('{"locationRef":')
  readonly #skuPart = Buffer.from(',"skuRef":')
  readonly #qtyPart = Buffer.from(',"qty":')
  readonly #endPart: Buffer
  /** The longest line: both refs at their longest and fully escaped (6 bytes a UTF-16 unit), and a 10-digit qty. */
  readonly #maxLine: number

  private constructor (path: string, out: WriteStream, retailerId: string) {
    this.path = path
    this.#out = out
    this.#endPart = Buffer.from(`,"correctedQty":0,"retailerId":${JSON.stringify(retailerId)}}\n`)
    this.#maxLine = this.#locationPart.length + this.#skuPart.length + this.#qtyPart.length + this.#endPart.length + 2 * (MAX_REF_LENGTH * 6 + 2) + 10
    out.on('error', (error) => { this.#failure ??= error })
  }

  /** A new spool file in os.tmpdir(), readable by this user only, for entities of the retailer `retailerId`. */
  static async create (retailerId: string): Promise<StockSpool> {
    const path = join(tmpdir(), `${SPOOL_PREFIX}${randomUUID()}.jsonl`)
    const out = createWriteStream(path, { flags: 'wx', mode: 0o600 })
    await once(out, 'open')
    return new StockSpool(path, out, retailerId)
  }

  get rows (): number {
    return this.#rows
  }

  /**
   * Adds a row as `{"locationRef":…,"skuRef":…,"qty":…,"correctedQty":0,"retailerId":…}`; never waits (a full buffer
   * is handed to the file). Call `settle()` now and then (after each chunk of the upload) so the file keeps up.
   */
  write (productRef: string, locationRef: string, quantity: number): void {
    if (this.#used + this.#maxLine > this.#buffer.length) this.#handOff()
    const buffer = this.#buffer
    let at = this.#used
    at += this.#locationPart.copy(buffer, at)
    at = this.#ref(locationRef, at)
    at += this.#skuPart.copy(buffer, at)
    at = this.#ref(productRef, at)
    at += this.#qtyPart.copy(buffer, at)
    at = digits(quantity, buffer, at)
    at += this.#endPart.copy(buffer, at)
    this.#used = at
    this.#rows++
  }

  #ref (value: string, at: number): number {
    const buffer = this.#buffer
    if (NEEDS_ESCAPE.test(value)) return at + buffer.write(JSON.stringify(value), at)
    buffer[at++] = 0x22
    at += buffer.write(value, at)
    buffer[at++] = 0x22
    return at
  }

  /** Sends the current buffer to the file and carries on in a free one. */
  #handOff (): void {
    if (this.#used === 0) return
    const full = this.#buffer
    this.#out.write(full.subarray(0, this.#used), (error) => {
      if (error == null) this.#free.push(full)
      else this.#failure ??= error
    })
    this.#buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(WRITE_CHUNK)
    this.#used = 0
  }

  /** Waits while the file is behind (a promise only then); throws the file's error, if it had one. */
  settle (): Promise<void> | undefined {
    if (this.#failure !== undefined) throw this.#failure
    if (!this.#out.writableNeedDrain) return undefined
    return once(this.#out, 'drain').then(() => { if (this.#failure !== undefined) throw this.#failure })
  }

  /** Writes what is left and closes the file. */
  async finish (): Promise<void> {
    this.#handOff()
    this.#out.end()
    await once(this.#out, 'close')
    if (this.#failure !== undefined) throw this.#failure
  }

  /**
   * The entities back, in order, `size` at a time (the last batch may be smaller), each batch's body being
   * `head` + the entities joined by commas + `tail`. One buffer serves every batch: send a batch before asking for the
   * next one.
   */
  async * batches (size: number, head: string, tail: string): AsyncGenerator<SpooledBatch> {
    const headBytes = Buffer.from(head)
    const tailBytes = Buffer.from(tail)
    const file = await open(this.path, 'r')
    try {
      const chunk = Buffer.allocUnsafeSlow(READ_CHUNK)
      let body: Buffer = Buffer.allocUnsafeSlow(Math.max(READ_CHUNK, headBytes.length + tailBytes.length + 1))
      let used = headBytes.copy(body, 0)
      let entities = 0
      let inLine = false
      /** Room for `more` bytes in the body, moving to a bigger buffer when needed (the first batch only, as a rule). */
      const room = (more: number): void => {
        if (used + more <= body.length) return
        const bigger = Buffer.allocUnsafeSlow(Math.max(body.length * 2, used + more))
        body.copy(bigger, 0, 0, used)
        body = bigger
      }
      for (;;) {
        const { bytesRead } = await file.read(chunk, 0, READ_CHUNK, null)
        if (bytesRead === 0) break
        let at = 0
        while (at < bytesRead) {
          if (!inLine) {
            if (entities > 0) {
              room(1)
              body[used++] = 0x2c
            }
            inLine = true
          }
          const newline = chunk.indexOf(NEWLINE, at)
          const end = newline === -1 || newline >= bytesRead ? bytesRead : newline
          room(end - at)
          used += chunk.copy(body, used, at, end)
          if (end === bytesRead) break
          inLine = false
          at = end + 1
          if (++entities === size) {
            room(tailBytes.length)
            used += tailBytes.copy(body, used)
            yield { body: body.subarray(0, used), entities }
            used = headBytes.length
            entities = 0
          }
        }
      }
      if (entities > 0) {
        room(tailBytes.length)
        used += tailBytes.copy(body, used)
        yield { body: body.subarray(0, used), entities }
      }
    } finally {
      await file.close()
    }
  }

  /** Closes and deletes the file, whatever state it is in. */
  async remove (): Promise<void> {
    if (!this.#out.closed) {
      this.#out.destroy()
      await once(this.#out, 'close').catch(() => {})
    }
    await rm(this.path, { force: true })
  }
}

/** Writes a non-negative integer's decimal digits at `at`; answers the offset after them. */
function digits (value: number, buffer: Buffer, at: number): number {
  let length = 1
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) length++
  let rest = value
  for (let index = at + length - 1; index >= at; index--) {
    buffer[index] = 0x30 + (rest % 10)
    rest = Math.floor(rest / 10)
  }
  return at + length
}
