import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

/** Encrypts secrets at rest (private signing keys, TOTP secrets) with AES-256-GCM. */
export interface SecretBox {
  seal(plaintext: string, context: string): string
  open(sealed: string, context: string): string
}

const VERSION = 'v1'

/**
 * The key is derived from SECRET_KEY with HKDF so SECRET_KEY itself is never used directly, and
 * `context` is bound as associated data: a ciphertext copied into another column does not open.
 */
export function createSecretBox(secretKey: string): SecretBox {
  const key = Buffer.from(hkdfSync('sha256', secretKey, 'kitsune', 'kitsune/secret-box/v1', 32))
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      cipher.setAAD(Buffer.from(context))
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      return [
        VERSION,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.')
    },
    open(sealed, context) {
      const [version, iv, body, tag] = sealed.split('.')
      if (version !== VERSION || !iv || body === undefined || !tag)
        throw new Error('sealed value is malformed')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      )
    },
  }
}

/** Derives a purpose-bound subkey from SECRET_KEY (e.g. for the audit-log HMAC). */
export function deriveKey(secretKey: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, 'kitsune', purpose, 32))
}
