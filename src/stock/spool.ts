// A temporary file of validated stock rows, so a whole upload is checked before Fluent sees any of it, and memory
// stays flat: rows go out as compact JSON lines and come back as batches, read as a stream.
import { randomUUID } from 'node:crypto'
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { StockRow } from './rows.js'

/** Every spool file's name starts so (tests and operators can find strays). */
export const SPOOL_PREFIX = 'fgw-stock-'
/** Lines are written in chunks of about this size rather than one write per row. */
const WRITE_CHUNK = 64 * 1024

export class StockSpool {
  readonly path: string
  readonly #out: WriteStream
  // Lines are encoded straight into a buffer outside the JS heap: concatenated strings would survive young-generation
  // collections and pile up in the old generation, which showed as about 90 MB of RSS growth over a million rows.
  readonly #buffer = Buffer.allocUnsafeSlow(WRITE_CHUNK)
  #used = 0
  #rows = 0

  private constructor (path: string, out: WriteStream) {
    this.path = path
    this.#out = out
  }

  /** A new spool file in os.tmpdir(), readable by this user only. */
  static async create (): Promise<StockSpool> {
    const path = join(tmpdir(), `${SPOOL_PREFIX}${randomUUID()}.jsonl`)
    const out = createWriteStream(path, { flags: 'wx', mode: 0o600 })
    await once(out, 'open')
    return new StockSpool(path, out)
  }

  get rows (): number {
    return this.#rows
  }

  /** Adds a row; answers a promise only when the file must be written first (await it), so most rows cost no promise. */
  write (row: StockRow): Promise<void> | undefined {
    const line = `${JSON.stringify([row.productRef, row.locationRef, row.quantity])}\n`
    // A line is at most a few KB (refs are bounded), far below WRITE_CHUNK.
    if (this.#used + Buffer.byteLength(line) > WRITE_CHUNK) {
      return this.#flush().then(() => { this.#append(line) })
    }
    this.#append(line)
    return undefined
  }

  #append (line: string): void {
    this.#used += this.#buffer.write(line, this.#used)
    this.#rows++
  }

  async #flush (): Promise<void> {
    if (this.#used === 0) return
    const chunk = this.#buffer.subarray(0, this.#used)
    // One buffer for the whole spool: it is filled again only once the file has taken it (the write's callback).
    await new Promise<void>((resolve, reject) => { this.#out.write(chunk, (error) => { if (error == null) resolve(); else reject(error) }) })
    this.#used = 0
  }

  /** Writes what is left and closes the file. */
  async finish (): Promise<void> {
    await this.#flush()
    this.#out.end()
    await once(this.#out, 'close')
  }

  /** The rows back, in order, `size` at a time (the last batch may be smaller). */
  async * batches (size: number): AsyncGenerator<StockRow[]> {
    const lines = createInterface({ input: createReadStream(this.path), crlfDelay: Infinity })
    let batch: StockRow[] = []
    for await (const line of lines) {
      if (line === '') continue
      const [productRef, locationRef, quantity] = JSON.parse(line) as [string, string, number]
      batch.push({ productRef, locationRef, quantity })
      if (batch.length >= size) {
        yield batch
        batch = []
      }
    }
    if (batch.length > 0) yield batch
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
