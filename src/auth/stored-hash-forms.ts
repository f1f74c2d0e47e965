import { createCipheriv, createHash, pbkdf2, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'
import { verify as argon2Verify } from '@node-rs/argon2'

/**
 * The password hash forms Kitsune stores besides its own argon2id (`password_hash` column). They
 * are also what `kitsune export` writes and what the JSON-lines import reads back. Every base64
 * field below is standard base64 (`+/`) without `=` padding, as in PHC strings.
 *
 *   argon2 (PHC)    `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>`; argon2i and
 *                   argon2d the same way; v=16 for Argon2 1.0.
 *   bcrypt          `$2a$`, `$2b$` or `$2y$` + cost + 53 characters (bcrypt's own base64).
 *   PBKDF2          `$pbkdf2-<sha1|sha256|sha512>$i=<iterations>$<salt>$<derived key>`; the
 *                   derived key length is the decoded key's length.
 *   bcrypt_sha256   `bcrypt_sha256$$2b$<cost>$…` (Django): bcrypt over the lowercase hex SHA-256 of
 *                   the password.
 *   Firebase scrypt `$firebase-scrypt$r=<rounds>,m=<memCost>$<signer key>$<salt separator>$<salt>$<hash>`:
 *                   key = scrypt(password, salt ‖ separator, N=2^memCost, r=rounds, p=1, 32 bytes);
 *                   hash = AES-256-CTR(key, IV = 16 zero bytes) of the project's signer key.
 *
 * The bounds keep an import file from making each sign-in cost minutes of CPU or gigabytes of memory.
 */
export class ForeignHashError extends Error {
  override name = 'ForeignHashError'
}

export const HASH_BOUNDS = {
  pbkdf2Iterations: 10_000_000,
  argon2MemoryKib: 262_144,
  argon2TimeCost: 20,
  argon2Parallelism: 16,
  scryptMemoryBytes: 256 * 1024 * 1024,
  scryptRounds: 32,
  scryptMemCost: 20,
  bcryptMinCost: 4,
  bcryptMaxCost: 16,
  maxSaltBytes: 1024,
  minKeyBytes: 16,
  maxKeyBytes: 128,
} as const

const B64 = '[A-Za-z0-9+/]+'
export const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/
const ARGON2 = new RegExp(
  `^\\$argon2(id|i|d)\\$(?:v=(16|19)\\$)?m=(\\d{1,7}),t=(\\d{1,3}),p=(\\d{1,3})\\$(${B64})\\$(${B64})$`,
)
const PBKDF2 = new RegExp(`^\\$pbkdf2-(sha1|sha256|sha512)\\$i=(\\d{1,8})\\$(${B64})\\$(${B64})$`)
const BCRYPT_SHA256 = /^bcrypt_sha256\$(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53})$/
const FIREBASE = new RegExp(
  `^\\$firebase-scrypt\\$r=(\\d{1,2}),m=(\\d{1,2})\\$(${B64})\\$(${B64})\\$(${B64})\\$(${B64})$`,
)

export type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512'

export interface Pbkdf2Form {
  readonly digest: Pbkdf2Digest
  readonly iterations: number
  readonly salt: Buffer
  readonly key: Buffer
}

export interface FirebaseForm {
  readonly rounds: number
  readonly memCost: number
  readonly signerKey: Buffer
  readonly saltSeparator: Buffer
  readonly salt: Buffer
  readonly hash: Buffer
}

export const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '')

/** Decodes unpadded standard base64, refusing any other spelling so each hash has one form. */
function unb64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64')
  return b64(bytes) === text ? bytes : undefined
}

export function checkSalt(salt: Buffer | undefined, what = 'salt'): Buffer {
  if (!salt || salt.length === 0 || salt.length > HASH_BOUNDS.maxSaltBytes)
    throw new ForeignHashError(`${what} must be 1 to ${HASH_BOUNDS.maxSaltBytes} bytes`)
  return salt
}

export function checkKey(key: Buffer | undefined, what = 'hash'): Buffer {
  if (!key || key.length < HASH_BOUNDS.minKeyBytes || key.length > HASH_BOUNDS.maxKeyBytes)
    throw new ForeignHashError(
      `${what} must be ${HASH_BOUNDS.minKeyBytes} to ${HASH_BOUNDS.maxKeyBytes} bytes`,
    )
  return key
}

function checkRange(value: number, min: number, max: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new ForeignHashError(`${what} must be an integer from ${min} to ${max}`)
  return value
}

export function formatPbkdf2(form: Pbkdf2Form): string {
  checkRange(form.iterations, 1, HASH_BOUNDS.pbkdf2Iterations, 'PBKDF2 iterations')
  checkSalt(form.salt, 'PBKDF2 salt')
  checkKey(form.key, 'PBKDF2 derived key')
  return `$pbkdf2-${form.digest}$i=${form.iterations}$${b64(form.salt)}$${b64(form.key)}`
}

export function parsePbkdf2(stored: string): Pbkdf2Form | undefined {
  const m = PBKDF2.exec(stored)
  if (!m) return undefined
  const form = {
    digest: m[1] as Pbkdf2Digest,
    iterations: Number(m[2]),
    salt: checkSalt(unb64(m[3] as string), 'PBKDF2 salt'),
    key: checkKey(unb64(m[4] as string), 'PBKDF2 derived key'),
  }
  checkRange(form.iterations, 1, HASH_BOUNDS.pbkdf2Iterations, 'PBKDF2 iterations')
  return form
}

/** Checks an argon2 PHC string against the bounds; returns it with `v=` spelled out. */
export function checkArgon2(stored: string): string | undefined {
  const m = ARGON2.exec(stored)
  if (!m) return undefined
  const [, type, version = '16', mem, time, lanes, salt, hash] = m as unknown as string[]
  const p = checkRange(Number(lanes), 1, HASH_BOUNDS.argon2Parallelism, 'argon2 parallelism')
  checkRange(Number(mem), 8 * p, HASH_BOUNDS.argon2MemoryKib, 'argon2 memory (KiB)')
  checkRange(Number(time), 1, HASH_BOUNDS.argon2TimeCost, 'argon2 iterations')
  const saltBytes = checkSalt(unb64(salt as string), 'argon2 salt')
  if (saltBytes.length < 8) throw new ForeignHashError('argon2 salt must be at least 8 bytes')
  checkKey(unb64(hash as string), 'argon2 hash')
  return `$argon2${type}$v=${version}$m=${mem},t=${time},p=${lanes}$${salt}$${hash}`
}

export function checkBcrypt(stored: string): string | undefined {
  const m = BCRYPT.exec(stored)
  if (!m) return undefined
  checkRange(Number(m[1]), HASH_BOUNDS.bcryptMinCost, HASH_BOUNDS.bcryptMaxCost, 'bcrypt cost')
  return stored
}

export function checkBcryptSha256(stored: string): string | undefined {
  const m = BCRYPT_SHA256.exec(stored)
  if (!m) return undefined
  checkBcrypt(m[1] as string)
  return stored
}

export function formatFirebase(form: FirebaseForm): string {
  checkRange(form.rounds, 1, HASH_BOUNDS.scryptRounds, 'Firebase scrypt rounds')
  checkRange(form.memCost, 1, HASH_BOUNDS.scryptMemCost, 'Firebase scrypt memCost')
  if (128 * 2 ** form.memCost * form.rounds > HASH_BOUNDS.scryptMemoryBytes)
    throw new ForeignHashError('Firebase scrypt parameters need more than 256 MiB per sign-in')
  checkSalt(form.signerKey, 'Firebase signer key')
  checkSalt(form.saltSeparator, 'Firebase salt separator')
  checkSalt(form.salt, 'Firebase salt')
  checkKey(form.hash, 'Firebase password hash')
  if (form.hash.length !== form.signerKey.length)
    throw new ForeignHashError('Firebase password hash and signer key differ in length')
  const fields = [form.signerKey, form.saltSeparator, form.salt, form.hash].map(b64).join('$')
  return `$firebase-scrypt$r=${form.rounds},m=${form.memCost}$${fields}`
}

export function parseFirebase(stored: string): FirebaseForm | undefined {
  const m = FIREBASE.exec(stored)
  if (!m) return undefined
  const form: FirebaseForm = {
    rounds: Number(m[1]),
    memCost: Number(m[2]),
    signerKey: checkSalt(unb64(m[3] as string), 'Firebase signer key'),
    saltSeparator: checkSalt(unb64(m[4] as string), 'Firebase salt separator'),
    salt: checkSalt(unb64(m[5] as string), 'Firebase salt'),
    hash: checkKey(unb64(m[6] as string), 'Firebase password hash'),
  }
  formatFirebase(form)
  return form
}

/** Whether `stored` is one of the forms above other than argon2id and bcrypt (bounds included). */
export function isForeignHash(stored: string): boolean {
  try {
    const argon2 = checkArgon2(stored)
    if (argon2) return !argon2.startsWith('$argon2id$')
    return Boolean(parsePbkdf2(stored) ?? checkBcryptSha256(stored) ?? parseFirebase(stored))
  } catch {
    return false
  }
}

const pbkdf2Async = promisify(pbkdf2)

function scryptAsync(password: string, salt: Buffer, n: number, r: number): Promise<Buffer> {
  // OpenSSL needs 128·r·(N + p + 2) bytes; the bounds keep that under 256 MiB.
  const maxmem = 128 * r * (n + 3) + 1024 * 1024
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: n, r, p: 1, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )
}

async function verifyFirebase(form: FirebaseForm, password: string): Promise<boolean> {
  const salt = Buffer.concat([form.salt, form.saltSeparator])
  const key = await scryptAsync(password, salt, 2 ** form.memCost, form.rounds)
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16, 0))
  const expected = Buffer.concat([cipher.update(form.signerKey), cipher.final()])
  return expected.length === form.hash.length && timingSafeEqual(expected, form.hash)
}

/**
 * Verifies a password against a foreign stored form (argon2i/argon2d PHC, PBKDF2, bcrypt_sha256,
 * Firebase scrypt): false, never a throw, for anything malformed or out of bounds. The work runs on
 * the libuv thread pool (node:crypto's async pbkdf2/scrypt, the argon2 and bcrypt bindings).
 */
export async function verifyForeign(stored: string, password: string): Promise<boolean> {
  try {
    if (!isForeignHash(stored)) return false
    const pbkdf2Form = parsePbkdf2(stored)
    if (pbkdf2Form) {
      const { digest, iterations, salt, key } = pbkdf2Form
      const derived = await pbkdf2Async(password, salt, iterations, key.length, digest)
      return timingSafeEqual(derived, key)
    }
    const firebase = parseFirebase(stored)
    if (firebase) return await verifyFirebase(firebase, password)
    const bcryptSha256 = BCRYPT_SHA256.exec(stored)
    if (bcryptSha256) {
      const { default: bcrypt } = await import('bcrypt')
      const prehash = createHash('sha256').update(password).digest('hex')
      return await bcrypt.compare(prehash, (bcryptSha256[1] as string).replace(/^\$2y\$/, '$2b$'))
    }
    const argon2 = checkArgon2(stored)
    return argon2 ? await argon2Verify(argon2, password) : false
  } catch {
    return false
  }
}
