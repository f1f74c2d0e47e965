import { randomBytes } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'

/** OWASP Password Storage cheat sheet, argon2id minimum: m=19 MiB, t=2, p=1. */
export const ARGON2_OWASP = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

// @node-rs/argon2 exports Algorithm as a const enum; 2 is Argon2id.
const ARGON2ID = 2

export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** Constant-time comparison inside argon2; false (never a throw) for a malformed hash. */
  verify(passwordHash: string, password: string): Promise<boolean>
  /** Spends the same time as a real verification, for accounts that do not exist. */
  verifyDummy(password: string): Promise<void>
}

export function createPasswordHasher(params: typeof ARGON2_OWASP = ARGON2_OWASP): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params }
  let dummyHash: Promise<string> | undefined
  const hasher: PasswordHasher = {
    // The native binding runs on the libuv thread pool: the event loop keeps serving.
    hash: (password) => hash(password, options),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, password)
      } catch {
        return false
      }
    },
    async verifyDummy(password) {
      dummyHash ??= hash(randomBytes(32).toString('base64url'), options)
      await hasher.verify(await dummyHash, password)
    },
  }
  return hasher
}
