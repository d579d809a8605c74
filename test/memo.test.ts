// BoundedMemo: remembers by key, first in first out past its size, never keeps a key over its length bound.
import { describe, expect, it } from 'vitest'
import { BoundedMemo } from '../src/memo.js'

describe('BoundedMemo', () => {
  it('computes a key once, drops the oldest key when full, and computes long keys every time without keeping them', () => {
    const computed: string[] = []
    const memo = new BoundedMemo<string>(2, 5)
    const get = (key: string): string => memo.get(key, (k) => { computed.push(k); return k.toUpperCase() })

    expect([get('a'), get('a'), get('b')]).toEqual(['A', 'A', 'B'])
    expect(computed).toEqual(['a', 'b'])
    // Full: 'c' pushes out 'a', the oldest; 'b' is still remembered.
    get('c')
    get('b')
    expect(computed).toEqual(['a', 'b', 'c'])
    get('a')
    expect(computed).toEqual(['a', 'b', 'c', 'a'])
    // Over the length bound: computed each time, and it pushes nothing out.
    expect([get('longer'), get('longer')]).toEqual(['LONGER', 'LONGER'])
    get('c')
    get('a')
    expect(computed).toEqual(['a', 'b', 'c', 'a', 'longer', 'longer'])
  })
})
