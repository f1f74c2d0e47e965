import { ROLE_NAME, USER_ROLE } from '../auth/permissions.js'
import type { PasskeysTable } from '../db/schema.js'
import { normalizeEmail } from '../lib/email.js'
import { unstorableTextReason } from '../lib/storable-text.js'

/** One account to import, in Kitsune's terms, whatever system it came from. */
export interface ImportRecord {
  line: number
  /** Kept as Kitsune's user id (so `sub` stays the same) when the source's id is a UUID. */
  id?: string
  /** The id in the source system, when it is not kept as Kitsune's id (for the report). */
  sourceId?: string
  email: string
  emailVerified: boolean
  fullName: string | null
  /** A stored form the password hasher verifies, or NO_PASSWORD. */
  passwordHash: string
  isActive: boolean
  createdAt?: Date
  roles: string[]
  locale?: string | null
  /** A confirmed TOTP authenticator: the base32 secret (RFC 6238, SHA-1, 6 digits, 30 s). */
  totpSecret?: string
  /** SHA-256 hashes (base64url) of unused recovery codes, as Kitsune stores them. */
  recoveryCodeHashes?: string[]
  /** Passkeys from another Kitsune (they work where the relying party id is the same). */
  passkeys?: ImportedPasskey[]
  /** The source had two-step verification on: kept when a passkey came along to serve it. */
  mfaEnabled?: boolean
  /** Things of the source account that were not brought along (for the report). */
  notes?: string[]
}

/** A passkey as another Kitsune exported it: the stored columns, less what this instance assigns. */
export type ImportedPasskey = Omit<
  PasskeysTable,
  'id' | 'user_id' | 'sign_count' | 'created_at' | 'last_used_at'
> & { sign_count: number; created_at?: Date }

/** A record that cannot be imported (`error`) or is deliberately left out (`skip`). */
export type Mapped = ImportRecord | { line: number; error: string } | { line: number; skip: string }

export function isRecord(mapped: Mapped): mapped is ImportRecord {
  return 'email' in mapped
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** `{id}` when the source id is a UUID (kept as Kitsune's id), else `{sourceId}`. */
export function idFields(sourceId: unknown): Pick<ImportRecord, 'id' | 'sourceId'> {
  if (typeof sourceId !== 'string' || sourceId === '') return {}
  return UUID.test(sourceId) ? { id: sourceId.toLowerCase() } : { sourceId }
}

export function emailOf(value: unknown): string | undefined {
  return typeof value === 'string' ? normalizeEmail(value) : undefined
}

export function nameOf(...parts: unknown[]): string | null {
  const text = parts
    .filter((part): part is string => typeof part === 'string')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(' ')
  return text === '' ? null : text.slice(0, 200)
}

/** A time from epoch milliseconds (number or digits), an ISO string, or Mongo's `{$date}`. */
export function timeOf(value: unknown): Date | undefined {
  if (value && typeof value === 'object' && '$date' in value)
    return timeOf((value as { $date: unknown }).$date)
  let date: Date | undefined
  if (typeof value === 'number') date = new Date(value)
  else if (typeof value === 'string' && /^\d{10,16}$/.test(value)) date = new Date(Number(value))
  // PostgreSQL's text output ends in an hour-only offset (`…05.123456+00`), which Date does not parse.
  else if (typeof value === 'string' && value !== '')
    date = new Date(value.replace(' ', 'T').replace(/(:\d\d(?:\.\d+)?[+-]\d\d)$/, '$1:00'))
  return date && !Number.isNaN(date.getTime()) && date.getTime() > 0 ? date : undefined
}

/** true/false, and PostgreSQL's CSV `t`/`f`. */
export function boolOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (value === 't' || value === 'true') return true
  if (value === 'f' || value === 'false') return false
  return undefined
}

/**
 * A source's role name in Kitsune's form (lower case; runs of other characters become `-`), or an
 * error naming it when even that is not a valid role name.
 */
export function roleNameOf(name: string): { role: string } | { error: string } {
  const role = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
  return ROLE_NAME.test(role)
    ? { role }
    : { error: `role "${name.slice(0, 60)}" has no valid Kitsune name (a-z, 0-9, _ and -, 2–50 characters)` }
}

/** The user role plus `extra`, sorted and unique. */
export function withUserRole(extra: Iterable<string>): string[] {
  return [...new Set([USER_ROLE, ...extra])].sort()
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

export function base32(bytes: Uint8Array): string {
  let bits = 0
  let value = 0
  let out = ''
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31]
  return out
}

/** A base32 TOTP secret with at least 80 bits, normalized (upper case, no spaces or padding). */
export function totpSecretOf(value: string): string | undefined {
  const secret = value.replace(/[\s=]/g, '').toUpperCase()
  return /^[A-Z2-7]{16,128}$/.test(secret) ? secret : undefined
}

/**
 * A record whose text PostgreSQL cannot store (a NUL, a lone surrogate) becomes a rejected line:
 * left in, it would fail its whole batch's transaction.
 */
export function storable(mapped: Mapped): Mapped {
  if (!isRecord(mapped)) return mapped
  const fields: Array<[string, string | null | undefined]> = [
    ['full name', mapped.fullName],
    ['password hash', mapped.passwordHash],
    ['locale', mapped.locale],
    ...mapped.roles.map((role): [string, string] => ['role', role]),
    ...(mapped.passkeys ?? []).map((passkey): [string, string] => ['passkey name', passkey.name]),
  ]
  for (const [name, value] of fields) {
    const reason = value ? unstorableTextReason(value) : undefined
    if (reason) return { line: mapped.line, error: `${name} ${reason}` }
  }
  return mapped
}

/** An object given as itself or as JSON text (Keycloak's secretData, Supabase's metadata in CSV). */
export function jsonObjectOf(value: unknown): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  if (typeof value !== 'string') return {}
  try {
    const parsed: unknown = JSON.parse(value)
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}
