import { randomBytes } from 'node:crypto'
import { hash, verify } from '@node-rs/argon2'
import { AppError } from '../errors/app-error.js'
import { normalizeImportedHash } from './foreign-hashes.js'
import { BCRYPT, ForeignHashError, isForeignHash, verifyForeign } from './stored-hash-forms.js'

/** OWASP Password Storage cheat sheet, argon2id minimum: m=19 MiB, t=2, p=1. */
export const ARGON2_OWASP = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export interface Argon2Params {
  readonly memoryCost: number
  readonly timeCost: number
  readonly parallelism: number
}

// @node-rs/argon2 exports Algorithm as a const enum; 2 is Argon2id.
const ARGON2ID = 2
const ARGON2_HASH = /^\$argon2(id|i|d)\$/
const ARGON2ID_HASH = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/

export interface PasswordHasher {
  hash(password: string): Promise<string>
  /**
   * Constant-time comparison inside argon2 (or bcrypt and the foreign forms, for imported hashes);
   * false (never a throw) for a malformed hash or NO_PASSWORD. Only SERVER_BUSY is thrown.
   */
  verify(passwordHash: string, password: string): Promise<boolean>
  /** Spends the same time as a real verification, for accounts that do not exist. */
  verifyDummy(password: string): Promise<void>
  /** True for every hash but argon2id, and for argon2id weaker than the configured parameters. */
  needsRehash(passwordHash: string): boolean
}

/**
 * The stored value of an imported account that has no password: it matches no password, so the
 * account signs in only after a password reset (which overwrites it).
 */
export const NO_PASSWORD = '!'

/**
 * Whether a stored hash is one Kitsune can verify, within the import bounds: argon2id, argon2i/d,
 * bcrypt, and the foreign forms of stored-hash-forms.ts (PBKDF2, bcrypt_sha256, Firebase scrypt).
 */
export function isSupportedHash(passwordHash: string): boolean {
  try {
    return normalizeImportedHash(passwordHash) === passwordHash
  } catch (error) {
    if (error instanceof ForeignHashError) return false
    throw error
  }
}

/**
 * Admits at most `concurrency` hashes at a time and queues at most `maxQueue` more; beyond that a
 * login flood is refused (503 SERVER_BUSY) instead of growing a backlog that starves every other
 * request of CPU and memory (each argon2id hash holds 19 MiB while it runs).
 */
export function createHashGate(concurrency: number, maxQueue: number) {
  let running = 0
  const waiting: Array<() => void> = []
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= concurrency) {
      if (waiting.length >= maxQueue) throw new AppError('SERVER_BUSY', { retryAfter: 1 })
      await new Promise<void>((resolve) => waiting.push(resolve))
    } else running++
    try {
      return await work()
    } finally {
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}

export function createPasswordHasher(
  params: Argon2Params = ARGON2_OWASP,
  gate: ReturnType<typeof createHashGate> = createHashGate(4, 256),
): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params }
  let dummyHash: Promise<string> | undefined
  const hasher: PasswordHasher = {
    // The native bindings run on the libuv thread pool: the event loop keeps serving.
    hash: (password) => gate(() => hash(password, options)),
    async verify(passwordHash, password) {
      try {
        // $2y$ (PHP) and $2b$ are the same algorithm; the bcrypt binding only knows $2a$/$2b$.
        if (BCRYPT.test(passwordHash)) {
          // Loaded only for imported legacy hashes.
          const { default: bcrypt } = await import('bcrypt')
          return await gate(() => bcrypt.compare(password, passwordHash.replace(/^\$2y\$/, '$2b$')))
        }
        if (ARGON2_HASH.test(passwordHash)) return await gate(() => verify(passwordHash, password))
        if (isForeignHash(passwordHash)) return await gate(() => verifyForeign(passwordHash, password))
      } catch (error) {
        if (error instanceof AppError) throw error
        return false
      }
      // NO_PASSWORD or an unreadable hash: spend a verification's time all the same, so the answer
      // does not tell such an account apart from a wrong password.
      await hasher.verifyDummy(password)
      return false
    },
    async verifyDummy(password) {
      dummyHash ??= hash(randomBytes(32).toString('base64url'), options)
      await hasher.verify(await dummyHash, password)
    },
    needsRehash(passwordHash) {
      const match = ARGON2ID_HASH.exec(passwordHash)
      if (!match) return true
      const [, m, t, p] = match.map(Number)
      return (
        (m as number) < params.memoryCost ||
        (t as number) < params.timeCost ||
        (p as number) < params.parallelism
      )
    },
  }
  return hasher
}
