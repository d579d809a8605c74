// What the bench scripts share besides their child processes (processes.js): where things are, knobs, medians.
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
