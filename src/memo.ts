// A bounded, string-keyed memo for values derived from what callers send over and over (GraphQL documents).
/**
 * At most `maxEntries` values, first in, first out: the oldest entry makes room, so a busy integration's few keys come
 * straight back while a flood of distinct ones cannot grow it. Keys longer than `maxKeyLength` are computed each time
 * and never kept, which bounds what it holds to about maxEntries × maxKeyLength characters.
 */
export class BoundedMemo<V> {
  readonly #values = new Map<string, V>()
  readonly #maxEntries: number
  readonly #maxKeyLength: number

  constructor (maxEntries: number, maxKeyLength: number) {
    this.#maxEntries = maxEntries
    this.#maxKeyLength = maxKeyLength
  }

  /** The value remembered for `key`, or compute()'s, remembered if the key is short enough. */
  get (key: string, compute: (key: string) => V): V {
    let value = this.#values.get(key)
    if (value !== undefined) return value
    value = compute(key)
    if (key.length <= this.#maxKeyLength) {
      if (this.#values.size >= this.#maxEntries) this.#values.delete(this.#values.keys().next().value as string)
      this.#values.set(key, value)
    }
    return value
  }
}
