import {
  b64,
  checkArgon2,
  checkBcrypt,
  checkBcryptSha256,
  checkKey,
  checkSalt,
  ForeignHashError,
  formatFirebase,
  formatPbkdf2,
  type Pbkdf2Digest,
  parseFirebase,
  parsePbkdf2,
} from './stored-hash-forms.js'

/**
 * Converts password hashes exported by other identity systems into Kitsune's stored forms (listed
 * in stored-hash-forms.ts), so imported users sign in with their old password and are re-hashed
 * to argon2id at that first sign-in. Error messages name the scheme, never the hash or the salt:
 * they end up in import reports.
 */
export { ForeignHashError, isForeignHash, verifyForeign } from './stored-hash-forms.js'

export interface FirebaseHashParams {
  /** base64 */
  signerKey: string
  /** base64 */
  saltSeparator: string
  rounds: number
  memCost: number
}

/** Lenient base64 for exported fields: standard or URL-safe alphabet, padded or not. */
function decodeBase64(text: unknown, what: string): Buffer {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(text))
    throw new ForeignHashError(`${what} is not base64`)
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (b64(bytes) !== text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/'))
    throw new ForeignHashError(`${what} is not base64`)
  return bytes
}

/** Shows a scheme name from an input file in an error message: short and printable only. */
function schemeName(name: string): string {
  return JSON.stringify(name.replace(/[^\w.+-]/g, '?').slice(0, 40))
}

const KEYCLOAK_PBKDF2: Record<string, Pbkdf2Digest> = {
  pbkdf2: 'sha1',
  'pbkdf2-sha256': 'sha256',
  'pbkdf2-sha512': 'sha512',
}

/** Keycloak's Argon2 defaults, used for a parameter its credential data leaves out. */
const KEYCLOAK_ARGON2_DEFAULTS: Record<string, string> = {
  type: 'id',
  version: '1.3',
  memory: '7168',
  parallelism: '1',
}

function keycloakParameter(params: Record<string, string[] | string> | undefined, name: string) {
  const value = params?.[name]
  const first = Array.isArray(value) ? value[0] : value
  return first ?? KEYCLOAK_ARGON2_DEFAULTS[name]
}

function decimal(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d{1,9}$/.test(text)) throw new ForeignHashError(`${what} is not a number`)
  return Number(text)
}

/**
 * A Keycloak credential of type "password": secretData {value, salt} (base64) and credentialData
 * {algorithm, hashIterations, additionalParameters}.
 */
export function fromKeycloak(input: {
  algorithm: string
  iterations: number
  value: string
  salt: string
  additionalParameters?: Record<string, string[] | string>
}): string {
  const algorithm = String(input.algorithm)
  const salt = checkSalt(decodeBase64(input.salt, 'Keycloak salt'), 'Keycloak salt')
  const key = checkKey(decodeBase64(input.value, 'Keycloak hash'), 'Keycloak hash')
  const digest = KEYCLOAK_PBKDF2[algorithm]
  if (digest) return formatPbkdf2({ digest, iterations: input.iterations, salt, key })
  if (algorithm !== 'argon2')
    throw new ForeignHashError(`unsupported Keycloak algorithm ${schemeName(algorithm)}`)
  const params = input.additionalParameters
  const type = keycloakParameter(params, 'type')
  if (type !== 'id' && type !== 'i' && type !== 'd')
    throw new ForeignHashError(`unsupported Keycloak argon2 type ${schemeName(String(type))}`)
  const version = keycloakParameter(params, 'version')
  if (version !== '1.3' && version !== '1.0')
    throw new ForeignHashError(`unsupported Keycloak argon2 version ${schemeName(String(version))}`)
  const hashLength = keycloakParameter(params, 'hashLength')
  if (hashLength !== undefined && decimal(hashLength, 'Keycloak argon2 hashLength') !== key.length)
    throw new ForeignHashError('Keycloak argon2 hashLength does not match the hash')
  const m = decimal(keycloakParameter(params, 'memory'), 'Keycloak argon2 memory')
  const p = decimal(keycloakParameter(params, 'parallelism'), 'Keycloak argon2 parallelism')
  const t = Number.isSafeInteger(input.iterations) ? input.iterations : Number.NaN
  const v = version === '1.3' ? 19 : 16
  const phc = checkArgon2(`$argon2${type}$v=${v}$m=${m},t=${t},p=${p}$${b64(salt)}$${b64(key)}`)
  if (!phc) throw new ForeignHashError('Keycloak argon2 parameters are out of range')
  return phc
}

/** A Firebase Auth user (passwordHash, salt: base64) with the project's hash parameters. */
export function fromFirebase(
  input: { passwordHash: string; salt: string },
  params: FirebaseHashParams,
): string {
  return formatFirebase({
    rounds: params.rounds,
    memCost: params.memCost,
    signerKey: decodeBase64(params.signerKey, 'Firebase signer key'),
    saltSeparator: decodeBase64(params.saltSeparator, 'Firebase salt separator'),
    salt: decodeBase64(input.salt, 'Firebase salt'),
    hash: decodeBase64(input.passwordHash, 'Firebase password hash'),
  })
}

const DJANGO_PBKDF2 = /^pbkdf2_(sha256|sha1)\$(\d{1,9})\$([^$]*)\$([A-Za-z0-9+/]*={0,2})$/

function fromDjangoPbkdf2(hash: string): string {
  const m = DJANGO_PBKDF2.exec(hash)
  if (!m) throw new ForeignHashError('malformed Django pbkdf2 hash')
  return formatPbkdf2({
    digest: m[1] as Pbkdf2Digest,
    iterations: Number(m[2]),
    // Django's salt is text: its UTF-8 bytes are the PBKDF2 salt.
    salt: Buffer.from(m[3] as string, 'utf8'),
    key: decodeBase64(m[4], 'Django pbkdf2 hash'),
  })
}

const ASPNET_PRF: Record<number, Pbkdf2Digest> = { 0: 'sha1', 1: 'sha256', 2: 'sha512' }

/** ASP.NET Core Identity PasswordHasher output (base64): version 2 (0x00) or version 3 (0x01). */
function fromAspNetIdentity(bytes: Buffer): string {
  if (bytes[0] === 0x00) {
    // V2: PBKDF2-HMAC-SHA1, 1000 iterations, 16-byte salt, 32-byte subkey.
    if (bytes.length !== 49) throw new ForeignHashError('malformed ASP.NET Identity v2 hash')
    return formatPbkdf2({
      digest: 'sha1',
      iterations: 1000,
      salt: bytes.subarray(1, 17),
      key: bytes.subarray(17),
    })
  }
  // V3: 0x01, PRF, iteration count and salt length (uint32 big-endian), salt, subkey.
  if (bytes.length < 13) throw new ForeignHashError('malformed ASP.NET Identity v3 hash')
  const digest = ASPNET_PRF[bytes.readUInt32BE(1)]
  if (!digest) throw new ForeignHashError('unsupported ASP.NET Identity v3 PRF')
  const iterations = bytes.readUInt32BE(5)
  const saltLength = bytes.readUInt32BE(9)
  if (saltLength === 0 || 13 + saltLength >= bytes.length)
    throw new ForeignHashError('malformed ASP.NET Identity v3 hash')
  return formatPbkdf2({
    digest,
    iterations,
    salt: bytes.subarray(13, 13 + saltLength),
    key: bytes.subarray(13 + saltLength),
  })
}

/** Schemes recognised only to be refused by name. */
const UNSUPPORTED: Array<[RegExp, string]> = [
  [/^(unsalted_md5|md5)\$/, 'Django md5'],
  [/^(unsalted_sha1|sha1)\$/, 'Django sha1'],
  [/^crypt\$/, 'Django crypt'],
  [/^scrypt\$/, 'Django scrypt'],
  [/^\$1\$/, 'md5-crypt'],
  [/^\$5\$/, 'sha256-crypt'],
  [/^\$6\$/, 'sha512-crypt'],
  [/^\$(P|H)\$/, 'phpass'],
  [/^\$scrypt\$/, 'scrypt PHC'],
  [/^[0-9a-f]{32}$/i, 'unsalted md5'],
  [/^[0-9a-f]{40}$/i, 'unsalted sha1'],
  [/^[0-9a-f]{64}$/i, 'unsalted sha256'],
]

/**
 * Any hash accepted in Kitsune's JSON-lines import: Kitsune's stored forms, Django's
 * (`pbkdf2_sha256$…`, `pbkdf2_sha1$…`, `argon2$argon2id$…`, `bcrypt_sha256$$2b$…`, `bcrypt$$2b$…`)
 * and ASP.NET Core Identity v2/v3. Returns the stored form; throws ForeignHashError.
 */
export function normalizeImportedHash(hash: string): string {
  if (typeof hash !== 'string' || hash.length === 0) throw new ForeignHashError('empty password hash')
  if (hash.length > 4096) throw new ForeignHashError('password hash is longer than 4096 characters')
  const stored =
    checkBcrypt(hash) ??
    checkArgon2(hash) ??
    checkBcryptSha256(hash) ??
    (parsePbkdf2(hash) || parseFirebase(hash) ? hash : undefined)
  if (stored) return stored
  if (hash.startsWith('pbkdf2_')) return fromDjangoPbkdf2(hash)
  if (hash.startsWith('argon2$')) {
    const phc = checkArgon2(hash.slice('argon2'.length))
    if (!phc) throw new ForeignHashError('malformed Django argon2 hash')
    return phc
  }
  if (hash.startsWith('bcrypt$')) {
    const plain = checkBcrypt(hash.slice('bcrypt$'.length))
    if (!plain) throw new ForeignHashError('malformed Django bcrypt hash')
    return plain
  }
  if (hash.startsWith('bcrypt_sha256$')) throw new ForeignHashError('malformed Django bcrypt_sha256 hash')
  for (const [pattern, name] of UNSUPPORTED) {
    if (pattern.test(hash)) throw new ForeignHashError(`unsupported password hash scheme: ${name}`)
  }
  if (/^\$(argon2|pbkdf2|firebase-scrypt|2[aby])/.test(hash)) {
    throw new ForeignHashError(`malformed ${hash.slice(1).split('$')[0]?.slice(0, 20)} hash`)
  }
  if (/^[A-Za-z0-9+/]{16,}={0,2}$/.test(hash)) {
    const bytes = Buffer.from(hash, 'base64')
    if (bytes.toString('base64') === hash && (bytes[0] === 0x00 || bytes[0] === 0x01))
      return fromAspNetIdentity(bytes)
  }
  const scheme = /^\$?([a-z][\w-]{0,30})\$/i.exec(hash)?.[1]
  throw new ForeignHashError(
    scheme ? `unsupported password hash scheme ${schemeName(scheme)}` : 'unrecognised password hash format',
  )
}
