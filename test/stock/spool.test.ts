// The spool's batch bodies are byte for byte what JSON.stringify of the InventoryBatch objects used to be, and the CSV
// reader names lines as csv-parse's `info` did, chunk boundaries anywhere.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryBatchFrame, type InventoryBatch } from '../../src/fluent/jobs.js'
import { readCsv, type RowSink } from '../../src/stock/rows.js'
import { StockSpool } from '../../src/stock/spool.js'

interface Row { productRef: string, locationRef: string, quantity: number }

describe('stock spool', () => {
  let dir: string
  const originalTmp = process.env.TMPDIR
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-test-'))
    process.env.TMPDIR = dir
  })
  afterAll(() => {
    process.env.TMPDIR = originalTmp
    rmSync(dir, { recursive: true, force: true })
  })

  async function spooled (rows: Row[], size: number, retailerId = '1', catalogueRef = 'DEFAULT:1'): Promise<Array<{ body: string, entities: number }>> {
    const spool = await StockSpool.create(retailerId)
    try {
      for (const row of rows) {
        spool.write(row.productRef, row.locationRef, row.quantity)
        await spool.settle()
      }
      await spool.finish()
      const { head, tail } = inventoryBatchFrame(catalogueRef)
      const batches = []
      for await (const { body, entities } of spool.batches(size, head, tail)) batches.push({ body: body.toString('utf8'), entities })
      return batches
    } finally {
      await spool.remove()
    }
  }

  function expected (rows: Row[], retailerId: string, catalogueRef: string): string {
    const batch: InventoryBatch = {
      action: 'UPSERT',
      entityType: 'INVENTORY',
      catalogueRef,
      entities: rows.map((row) => ({ locationRef: row.locationRef, skuRef: row.productRef, qty: row.quantity, correctedQty: 0, retailerId }))
    }
    return JSON.stringify(batch)
  }

  it('builds the same JSON as the batch objects, escapes and all', async () => {
    const refs = ['MUG-BLUE', 'say "hi"', 'back\\slash', 'tab\there', 'nul\u0000', 'ünïcødé-日本', 'emoji-😀', 'lone-\ud800', 'x'.repeat(255)]
    const rows = refs.map((ref, index) => ({ productRef: ref, locationRef: refs[refs.length - 1 - index] as string, quantity: [0, 7, 10, 2_147_483_647][index % 4] as number }))
    const batches = await spooled(rows, 5000, 'R"1', 'INV:"q"')
    expect(batches).toEqual([{ body: expected(rows, 'R"1', 'INV:"q"'), entities: rows.length }])
  })

  it('splits into batches of at most `size`, across read chunks, the last one smaller', async () => {
    const rows = Array.from({ length: 12_345 }, (_, index) => ({ productRef: `SKU-${index}-${'p'.repeat(index % 50)}`, locationRef: `LOC-${index % 7}`, quantity: index }))
    const batches = await spooled(rows, 5000)
    expect(batches.map((batch) => batch.entities)).toEqual([5000, 5000, 2345])
    expect(batches.map((batch) => batch.body)).toEqual([
      expected(rows.slice(0, 5000), '1', 'DEFAULT:1'),
      expected(rows.slice(5000, 10_000), '1', 'DEFAULT:1'),
      expected(rows.slice(10_000), '1', 'DEFAULT:1')
    ])
  })
})

describe('readCsv', () => {
  async function read (text: string, chunkSize: number): Promise<{ rows: Row[], issues: string[] }> {
    const rows: Row[] = []
    const issues: string[] = []
    const sink: RowSink = {
      row (productRef, locationRef, quantity) { rows.push({ productRef, locationRef, quantity }) },
      issue (issue) { issues.push(issue.message); return false }
    }
    const bytes = Buffer.from(text)
    async function * chunks (): AsyncGenerator<Buffer> {
      for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize)
    }
    await readCsv(chunks(), sink)
    return { rows, issues }
  }

  it('names the line of a bad row whatever the chunking, quoted newlines and blank lines counted', async () => {
    const text = '\ufeffquantity,productRef,locationRef\r\n1,A,L\r\n\r\n"2","multi\nline",L\r\nx,B,L\r\n3,,L\r\n4,C,L'
    for (const size of [1, 2, 3, 7, 64 * 1024]) {
      expect(await read(text, size)).toEqual({
        rows: [{ productRef: 'A', locationRef: 'L', quantity: 1 }, { productRef: 'multi\nline', locationRef: 'L', quantity: 2 }, { productRef: 'C', locationRef: 'L', quantity: 4 }],
        issues: ['line 6, column 1 (quantity): must be a non-negative integer, got "x"', 'line 7, column 2 (productRef): is required']
      })
    }
  })
})
