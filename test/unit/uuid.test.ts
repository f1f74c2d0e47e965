import { describe, expect, it } from 'vitest'
import { uuidv7 } from '../../src/lib/uuid.js'

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const millisecondsOf = (id: string) => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)

describe('uuidv7', () => {
  it('is a version 7, variant 10 UUID carrying the Unix milliseconds', () => {
    const at = Date.UTC(2026, 10, 27, 12, 0, 0, 123)
    const id = uuidv7(at)
    expect(id).toMatch(FORMAT)
    expect(millisecondsOf(id)).toBe(at)
  })

  it('sorts ids in the order they were made, within one millisecond and across many', () => {
    const ids = Array.from({ length: 20_000 }, () => uuidv7())
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    for (const id of ids) expect(id).toMatch(FORMAT)
  })

  it('borrows the next millisecond when 4096 ids are made in one', () => {
    const at = Date.UTC(2030, 0, 1)
    const ids = Array.from({ length: 5_000 }, () => uuidv7(at))
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    expect(millisecondsOf(ids.at(-1) as string)).toBeGreaterThan(at)
  })

  it('never goes back when the clock does', () => {
    const first = uuidv7(Date.UTC(2031, 0, 1))
    const after = uuidv7(Date.UTC(2031, 0, 1) - 60_000)
    expect(after > first).toBe(true)
  })
})
