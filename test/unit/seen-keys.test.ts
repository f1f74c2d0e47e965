import { describe, expect, it } from 'vitest'
import { SeenKeys } from '../../src/import/seen-keys.js'

describe('SeenKeys', () => {
  it('answers the first line of a key seen before, across many table growths', () => {
    const seen = new SeenKeys()
    const count = 150_000 // the table starts at 65,536 slots and doubles at half load: three growths
    for (let i = 0; i < count; i++) expect(seen.add(`user${i}@example.com`, i + 1)).toBeUndefined()
    expect(seen.size).toBe(count)
    for (const i of [0, 1, 32_767, 32_768, 65_535, 99_999, count - 1])
      expect(seen.add(`user${i}@example.com`, 999_999)).toBe(i + 1)
    expect(seen.size).toBe(count)
    expect(seen.add('someone-else@example.com', 7)).toBeUndefined()
  })
})
