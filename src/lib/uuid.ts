import { randomFillSync } from 'node:crypto'

const POOL_SIZE = 16 * 256
const pool = Buffer.allocUnsafe(POOL_SIZE)
let poolOffset = POOL_SIZE

let lastMs = -1
let sequence = 0

/** 16 fresh random bytes from a pooled buffer (one getrandom call per 256 ids). */
function randomBytes16(): Buffer {
  if (poolOffset + 16 > POOL_SIZE) {
    randomFillSync(pool)
    poolOffset = 0
  }
  poolOffset += 16
  return pool.subarray(poolOffset - 16, poolOffset)
}

/**
 * A UUID version 7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then 74 random bits, except that the
 * 12-bit rand_a field counts up within a millisecond (method 1 of §6.2), so the ids one process
 * makes sort in the order it made them. A counter that runs out borrows the next millisecond.
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes16()
  if (now > lastMs) {
    lastMs = now
    // Start low in the range, leaving room to count up within this millisecond.
    sequence = (bytes[6] as number) & 0x1ff
  } else if (++sequence > 0xfff) {
    lastMs++
    sequence = 0
  }
  const ms = lastMs
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff
  bytes[2] = (ms >>> 24) & 0xff
  bytes[3] = (ms >>> 16) & 0xff
  bytes[4] = (ms >>> 8) & 0xff
  bytes[5] = ms & 0xff
  bytes[6] = 0x70 | (sequence >>> 8)
  bytes[7] = sequence & 0xff
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
