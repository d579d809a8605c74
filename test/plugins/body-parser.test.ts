// The depth scan that guards JSON.parse: what it counts, what it leaves alone, and that it stays cheap on large bodies.
import { describe, expect, it } from 'vitest'
import { charsetOf, MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/plugins/body-parser.js'

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8')

describe('nestsDeeperThan', () => {
  it('counts arrays and objects outside strings only, honouring escapes', () => {
    expect(nestsDeeperThan(bytes('[[1]]'), 2)).toBe(false)
    expect(nestsDeeperThan(bytes('[[[1]]]'), 2)).toBe(true)
    expect(nestsDeeperThan(bytes('{"a":{"b":[1]}}'), 2)).toBe(true)
    expect(nestsDeeperThan(bytes('[1],[2],[3]'), 1)).toBe(false)
    expect(nestsDeeperThan(bytes('{"a":"[[[[{{{{"}'), 1)).toBe(false)
    expect(nestsDeeperThan(bytes('{"a":"\\"[[[["}'), 1)).toBe(false)
    expect(nestsDeeperThan(bytes('{"a":"\\\\",[[[1]]]}'), 3)).toBe(true)
    expect(nestsDeeperThan(bytes('{"é":"ë[[[","b":[1]}'), 2)).toBe(false)
  })

  it('scans a megabyte well under a millisecond of CPU per KB', () => {
    const wide = bytes(JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ ref: `SKU-${i}`, tags: ['a', '[b]', '{c}'], n: [i] })) }))
    const deep = bytes(`${'['.repeat(MAX_JSON_DEPTH)}${'1,'.repeat(500_000)}1${']'.repeat(MAX_JSON_DEPTH)}`)
    nestsDeeperThan(wide, MAX_JSON_DEPTH)
    const started = process.cpuUsage()
    for (let round = 0; round < 5; round++) {
      expect(nestsDeeperThan(wide, MAX_JSON_DEPTH)).toBe(false)
      expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(false)
    }
    const { user, system } = process.cpuUsage(started)
    const kilobytes = 5 * (wide.length + deep.length) / 1024
    console.log(`depth scan: ${((user + system) / 1000 / kilobytes * 1000).toFixed(2)} µs of CPU per KB over ${kilobytes.toFixed(0)} KB`)
    expect((user + system) / 1000 / kilobytes).toBeLessThan(0.1)
  })
})

describe('charsetOf', () => {
  it('reads the charset parameter, case-insensitive, quoted or not', () => {
    expect(charsetOf('application/json')).toBeUndefined()
    expect(charsetOf('application/json; charset=UTF-8')).toBe('utf-8')
    expect(charsetOf('application/json;CHARSET="Latin1"')).toBe('latin1')
    expect(charsetOf('application/json; foo=bar; charset = iso-8859-1 ')).toBe('iso-8859-1')
    expect(charsetOf(undefined)).toBeUndefined()
  })
})
