import { createHash, randomBytes } from 'node:crypto'

/** A random 256-bit bearer secret (refresh, reset, verification tokens) and its storage digest. */
export function generateOpaqueToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashOpaqueToken(token) }
}

/** SHA-256 is enough here: the input is 256 random bits, not a guessable password. */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}
