// The README's error table is the problem catalogue (src/errors.ts) as a newcomer reads it: same codes, statuses and words.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PROBLEMS } from '../../src/errors.js'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** The rows of the table under "### Errors" whose header is `| status | code | when |`. */
function errorTable (): string[] {
  const section = README.slice(README.indexOf('### Errors'))
  const start = section.indexOf('| status | code | when |')
  expect(start, 'README has an error table').toBeGreaterThan(-1)
  return section.slice(start).split('\n').slice(2).filter((line, index, lines) => lines.slice(0, index + 1).every((row) => row.startsWith('|')))
}

describe('README error table', () => {
  it('lists every catalogue code, in catalogue order, with its status and its "when"', () => {
    const expected = Object.entries(PROBLEMS).map(([code, row]) => `| ${row.status} | \`${code}\` | ${row.when} |`)
    expect(errorTable()).toEqual(expected)
  })
})
