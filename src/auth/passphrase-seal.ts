import { randomBytes, scrypt } from 'node:crypto'
import { createSecretBox, type SecretBox } from './secret-box.js'

/**
 * Seals secrets that leave Kitsune (TOTP secrets in `kitsune export --include-mfa`) with a
 * passphrase instead of SECRET_KEY, so another instance with another SECRET_KEY can open them.
 * One scrypt derivation per file (N=2^17, r=8: ≈128 MiB and a fraction of a second), then
 * AES-256-GCM per secret with the secret's owner bound as associated data. `check` is a sealed
 * known text: a wrong passphrase is told apart before anything is imported.
 */
export interface PassphraseSealHeader {
  kdf: 'scrypt'
  n: number
  r: number
  p: number
  salt: string
  check: string
}

export class PassphraseError extends Error {}

export const MIN_PASSPHRASE_LENGTH = 12
const CHECK_TEXT = 'kitsune-export'
const CHECK_CONTEXT = 'kitsune-export/check'

function derive(passphrase: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      passphrase.normalize('NFKC'),
      salt,
      32,
      { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    ),
  )
}

function boxFor(key: Buffer): SecretBox {
  return createSecretBox(key.toString('base64'))
}

export async function createPassphraseSeal(
  passphrase: string,
): Promise<{ header: PassphraseSealHeader; seal(plaintext: string, context: string): string }> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH)
    throw new PassphraseError(`the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`)
  const salt = randomBytes(16)
  const params = { n: 2 ** 17, r: 8, p: 1 }
  const box = boxFor(await derive(passphrase, salt, params.n, params.r, params.p))
  return {
    header: {
      kdf: 'scrypt',
      ...params,
      salt: salt.toString('base64url'),
      check: box.seal(CHECK_TEXT, CHECK_CONTEXT),
    },
    seal: (plaintext, context) => box.seal(plaintext, context),
  }
}

/** Opens what createPassphraseSeal sealed; PassphraseError for a wrong passphrase or a bad header. */
export async function openPassphraseSeal(
  passphrase: string,
  header: unknown,
): Promise<{ open(sealed: string, context: string): string }> {
  const h = (header ?? {}) as Partial<PassphraseSealHeader>
  const valid =
    h.kdf === 'scrypt' &&
    Number.isInteger(h.n) &&
    (h.n as number) >= 2 ** 14 &&
    (h.n as number) <= 2 ** 20 &&
    Number.isInteger(Math.log2(h.n as number)) &&
    Number.isInteger(h.r) &&
    (h.r as number) >= 1 &&
    (h.r as number) <= 16 &&
    h.p === 1 &&
    typeof h.salt === 'string' &&
    typeof h.check === 'string'
  if (!valid) throw new PassphraseError('the file’s MFA sealing parameters are missing or out of range')
  const box = boxFor(
    await derive(passphrase, Buffer.from(h.salt as string, 'base64url'), h.n as number, h.r as number, 1),
  )
  try {
    if (box.open(h.check as string, CHECK_CONTEXT) !== CHECK_TEXT) throw new Error('check')
  } catch {
    throw new PassphraseError('wrong passphrase: the MFA secrets in this file do not open with it')
  }
  return { open: (sealed, context) => box.open(sealed, context) }
}
