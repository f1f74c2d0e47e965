import { createHash, randomBytes } from 'node:crypto'
import type { TOTP } from 'otpauth'

/** Loaded with the first MFA operation: most processes never enrol or check a code. */
let otpauth: Promise<typeof import('otpauth')> | undefined
const loadOtpauth = () => {
  otpauth ??= import('otpauth')
  return otpauth
}

/** RFC 6238 defaults every authenticator app understands: SHA-1, 6 digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30
const WINDOW = 1

async function totpFor(secretBase32: string, issuer: string, label: string): Promise<TOTP> {
  const { Secret, TOTP } = await loadOtpauth()
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  })
}

/** A new 160-bit secret (RFC 4226's recommended length), base32 as authenticator apps expect. */
export async function generateTotpSecret(): Promise<string> {
  const { Secret } = await loadOtpauth()
  return new Secret({ size: 20 }).base32
}

export async function enrolmentFor(secretBase32: string, issuer: string, label: string) {
  const uri = (await totpFor(secretBase32, issuer, label)).toString()
  const { default: QRCode } = await import('qrcode')
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return { otpauth_uri: uri, qr_svg: svg }
}

/**
 * The time step a code belongs to (±1 step of clock drift accepted), or undefined. The caller
 * stores the step so the same code is never accepted twice.
 */
export async function matchTotpStep(
  secretBase32: string,
  code: string,
  at: Date,
): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined
  const delta = (await totpFor(secretBase32, 'kitsune', 'kitsune')).validate({
    token: code,
    timestamp: at.getTime(),
    window: WINDOW,
  })
  if (delta === null) return undefined
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS) + delta
}

/** Ten single-use recovery codes like `k7m2q-9xw4p`, and their storage digests. */
export function generateRecoveryCodes(count = 10): { codes: string[]; hashes: string[] } {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789'
  const codes = Array.from({ length: count }, () => {
    const bytes = randomBytes(10)
    const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('')
    return `${chars.slice(0, 5)}-${chars.slice(5)}`
  })
  return { codes, hashes: codes.map(hashRecoveryCode) }
}

/** Case, spaces and dashes do not matter when a person types a code back. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('base64url')
}
