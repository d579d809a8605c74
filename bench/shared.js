// What the bench scripts share besides their child processes (processes.js): where things are, knobs, medians, tables.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The checkout (its dist/ is what runs) and the bench's own folder; results go to bench/out/ (git-ignored). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const BENCH = fileURLToPath(new URL('.', import.meta.url))
export const OUT = join(BENCH, 'out')

/** A number from the environment variable `name`, or `fallback` when it is not set. */
export const numberFromEnv = (name, fallback) => (process.env[name] === undefined ? fallback : Number(process.env[name]))

/** The median of the finite values; NaN when there is none. */
export function median (values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** A number with `digits` decimals, or n/a for a missing or non-finite one. */
export const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a')

/** A table as aligned text for the terminal (first column left, the rest right) and as markdown for bench/out/. */
export function table (header, rows) {
  const widths = header.map((title, index) => Math.max(title.length, ...rows.map((row) => String(row[index]).length)))
  const line = (cells) => cells.map((cell, index) => (index === 0 ? String(cell).padEnd(widths[index]) : String(cell).padStart(widths[index]))).join('  ')
  const markdown = [`| ${header.join(' | ')} |`, `| ${header.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n')
  return { text: [line(header), ...rows.map(line)].join('\n'), markdown }
}
