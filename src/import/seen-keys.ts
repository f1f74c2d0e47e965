import { createHash } from 'node:crypto'

/**
 * Remembers which keys (e-mail addresses) a file has already named, and on which line, in 12 bytes
 * per key: a 64-bit fingerprint (the first 8 bytes of SHA-256) and a line number, in an
 * open-addressing table that doubles at half load. A million addresses take 24 MiB, where a Set of
 * the strings would take several times that. Two different keys share a fingerprint with a
 * probability of about n²/2⁶⁵ (3·10⁻⁸ for a million).
 */
export class SeenKeys {
  private fingerprints = new BigUint64Array(1 << 16)
  private lines = new Uint32Array(1 << 16)
  private count = 0

  /** Records `key` at `line`; returns the line it was first seen on if it was seen before. */
  add(key: string, line: number): number | undefined {
    let fingerprint = createHash('sha256').update(key).digest().readBigUInt64LE(0)
    if (fingerprint === 0n) fingerprint = 1n // 0 marks an empty slot
    const seen = this.place(fingerprint, line)
    if (seen !== undefined) return seen
    this.count++
    if (this.count * 2 > this.fingerprints.length) this.grow()
    return undefined
  }

  get size(): number {
    return this.count
  }

  private place(fingerprint: bigint, line: number): number | undefined {
    const mask = this.fingerprints.length - 1
    let slot = Number(fingerprint & BigInt(mask))
    for (;;) {
      const here = this.fingerprints[slot] as bigint
      if (here === 0n) {
        this.fingerprints[slot] = fingerprint
        this.lines[slot] = line
        return undefined
      }
      if (here === fingerprint) return this.lines[slot]
      slot = (slot + 1) & mask
    }
  }

  private grow(): void {
    const fingerprints = this.fingerprints
    const lines = this.lines
    this.fingerprints = new BigUint64Array(fingerprints.length * 2)
    this.lines = new Uint32Array(lines.length * 2)
    for (let i = 0; i < fingerprints.length; i++) {
      const fingerprint = fingerprints[i] as bigint
      if (fingerprint !== 0n) this.place(fingerprint, lines[i] as number)
    }
  }
}
