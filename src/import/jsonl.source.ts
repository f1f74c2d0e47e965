import { ForeignHashError, normalizeImportedHash } from '../auth/foreign-hashes.js'
import { NO_PASSWORD } from '../auth/password-hasher.js'
import { isPermission, ROLE_NAME } from '../auth/permissions.js'
import {
  emailOf,
  type ImportedPasskey,
  idFields,
  type Mapped,
  roleNameOf,
  timeOf,
  totpSecretOf,
  withUserRole,
} from './import-record.js'
import { jsonLinesFile } from './readers.js'
import type { ImportSource, RoleDefinition } from './sources.js'

/** The first line of a file `kitsune export` wrote. */
export interface KitsuneExportHeader {
  format: 'kitsune-users'
  version: 1
  exported_at?: string
  roles?: RoleDefinition[]
  /** Present when TOTP secrets are included (sealed with a passphrase). */
  mfa?: unknown
}

export const EXPORT_FORMAT = 'kitsune-users'

const FIELDS = new Set([
  'id',
  'email',
  'email_verified',
  'full_name',
  'password_hash',
  'is_active',
  'roles',
  'created_at',
  'locale',
  'mfa',
  'mfa_enabled',
  'passkeys',
])
const B64URL = /^[A-Za-z0-9_-]+$/
const AAGUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'])

function passkeyOf(value: unknown): ImportedPasskey | undefined {
  if (!value || typeof value !== 'object') return undefined
  const p = value as Record<string, unknown>
  const ok =
    typeof p.credential_id === 'string' &&
    B64URL.test(p.credential_id) &&
    p.credential_id.length <= 1366 &&
    typeof p.public_key === 'string' &&
    B64URL.test(p.public_key) &&
    p.public_key.length <= 4096 &&
    Number.isSafeInteger(p.sign_count) &&
    (p.sign_count as number) >= 0 &&
    Array.isArray(p.transports) &&
    p.transports.every((t) => typeof t === 'string' && TRANSPORTS.has(t)) &&
    typeof p.aaguid === 'string' &&
    AAGUID.test(p.aaguid) &&
    typeof p.backup_eligible === 'boolean' &&
    typeof p.backed_up === 'boolean' &&
    typeof p.user_verified === 'boolean' &&
    typeof p.name === 'string' &&
    p.name.trim().length >= 1 &&
    p.name.length <= 64
  if (!ok) return undefined
  const createdAt = typeof p.created_at === 'string' ? timeOf(p.created_at) : undefined
  return {
    credential_id: p.credential_id as string,
    public_key: p.public_key as string,
    sign_count: p.sign_count as number,
    transports: p.transports as string[],
    aaguid: p.aaguid as string,
    backup_eligible: p.backup_eligible as boolean,
    backed_up: p.backed_up as boolean,
    user_verified: p.user_verified as boolean,
    name: (p.name as string).trim(),
    ...(createdAt ? { created_at: createdAt } : {}),
  }
}
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/
const RECOVERY_HASH = /^[A-Za-z0-9_-]{43}$/

export function isExportHeader(value: unknown): value is KitsuneExportHeader {
  return Boolean(
    value && typeof value === 'object' && (value as { format?: unknown }).format === EXPORT_FORMAT,
  )
}

/** The file's header line, if the file starts with one. */
export async function readJsonlHeader(path: string): Promise<KitsuneExportHeader | undefined> {
  for await (const item of jsonLinesFile(path)) {
    if (!('value' in item) || !isExportHeader(item.value)) return undefined
    if (item.value.version !== 1)
      throw new Error(`export format version ${String(item.value.version)} is not supported`)
    return item.value
  }
  return undefined
}

/** The TOTP secret's associated data in an export: bound to the exported account's id or e-mail. */
export function exportTotpContext(owner: string): string {
  return `kitsune-export/totp:${owner}`
}

export function mapKitsuneLine(
  value: unknown,
  line: number,
  openTotp?: (sealed: string, context: string) => string,
): Mapped {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { line, error: 'not a JSON object' }
  const record = value as Record<string, unknown>
  const unknown = Object.keys(record).filter((key) => !FIELDS.has(key))
  if (unknown.length > 0) return { line, error: `unknown field(s): ${unknown.join(', ')}` }
  const email = emailOf(record.email)
  if (!email) return { line, error: 'email is missing or invalid' }
  if (record.id !== undefined && !idFields(record.id).id) return { line, error: 'id must be a UUID' }
  let passwordHash = NO_PASSWORD
  if (record.password_hash !== null && record.password_hash !== undefined) {
    if (typeof record.password_hash !== 'string')
      return { line, error: 'password_hash must be a string or null' }
    // Django's "unusable password" (`!` and random text): the account has no password.
    if (!record.password_hash.startsWith('!')) {
      try {
        passwordHash = normalizeImportedHash(record.password_hash)
      } catch (error) {
        if (error instanceof ForeignHashError) return { line, error: `password_hash: ${error.message}` }
        throw error
      }
    }
  }
  if (
    record.full_name !== undefined &&
    record.full_name !== null &&
    (typeof record.full_name !== 'string' || record.full_name.length > 200)
  )
    return { line, error: 'full_name must be a string of at most 200 characters' }
  for (const flag of ['is_active', 'email_verified'] as const)
    if (record[flag] !== undefined && typeof record[flag] !== 'boolean')
      return { line, error: `${flag} must be a boolean` }
  const roles = record.roles ?? []
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string'))
    return { line, error: 'roles must be an array of role names' }
  const mapped: string[] = []
  for (const role of roles as string[]) {
    const name = roleNameOf(role)
    if ('error' in name || name.role !== role)
      return { line, error: `role "${role.slice(0, 60)}" is not a valid role name` }
    mapped.push(name.role)
  }
  let createdAt: Date | undefined
  if (record.created_at !== undefined) {
    createdAt = typeof record.created_at === 'string' ? timeOf(record.created_at) : undefined
    if (!createdAt) return { line, error: 'created_at must be an ISO 8601 time' }
  }
  if (
    record.locale !== undefined &&
    record.locale !== null &&
    (typeof record.locale !== 'string' || !LOCALE.test(record.locale))
  )
    return { line, error: 'locale must be a language tag' }
  let totpSecret: string | undefined
  let recoveryCodeHashes: string[] | undefined
  if (record.mfa !== undefined && record.mfa !== null) {
    const mfa = record.mfa as Record<string, unknown>
    if (typeof mfa !== 'object' || Array.isArray(mfa)) return { line, error: 'mfa must be an object' }
    if (typeof mfa.totp === 'string') {
      if (!openTotp) return { line, error: 'mfa.totp is sealed but the file has no MFA header' }
      try {
        totpSecret = totpSecretOf(openTotp(mfa.totp, exportTotpContext(String(record.id ?? email))))
      } catch {
        return {
          line,
          error: 'mfa.totp does not open with this passphrase (altered, or moved to another account)',
        }
      }
      if (!totpSecret) return { line, error: 'mfa.totp is not a base32 secret of at least 80 bits' }
    }
    const codes = mfa.recovery_codes ?? []
    if (
      !Array.isArray(codes) ||
      !codes.every((c) => typeof c === 'string' && RECOVERY_HASH.test(c)) ||
      codes.length > 50
    )
      return { line, error: 'mfa.recovery_codes must be at most 50 recovery-code hashes' }
    recoveryCodeHashes = codes as string[]
  }
  if (record.mfa_enabled !== undefined && typeof record.mfa_enabled !== 'boolean')
    return { line, error: 'mfa_enabled must be a boolean' }
  const passkeys: ImportedPasskey[] = []
  if (record.passkeys !== undefined) {
    if (!Array.isArray(record.passkeys) || record.passkeys.length > 50)
      return { line, error: 'passkeys must be an array of at most 50 passkeys' }
    for (const [index, value] of record.passkeys.entries()) {
      const passkey = passkeyOf(value)
      if (!passkey) return { line, error: `passkeys[${index}] is not a valid passkey` }
      passkeys.push(passkey)
    }
  }
  return {
    line,
    ...idFields(record.id),
    email,
    emailVerified: (record.email_verified as boolean | undefined) ?? false,
    fullName: typeof record.full_name === 'string' ? record.full_name.trim() || null : null,
    passwordHash,
    isActive: (record.is_active as boolean | undefined) ?? true,
    ...(createdAt ? { createdAt } : {}),
    roles: roles.length === 0 ? withUserRole([]) : [...new Set(mapped)].sort(),
    ...(record.locale ? { locale: record.locale as string } : {}),
    ...(totpSecret ? { totpSecret } : {}),
    ...(recoveryCodeHashes && recoveryCodeHashes.length > 0 ? { recoveryCodeHashes } : {}),
    ...(passkeys.length > 0 ? { passkeys } : {}),
    ...(record.mfa_enabled === true ? { mfaEnabled: true } : {}),
  }
}

/** Role definitions of a header, validated: name, description (≤ 200), known permissions. */
export function headerRoles(header: KitsuneExportHeader | undefined): RoleDefinition[] {
  const roles: RoleDefinition[] = []
  for (const role of Array.isArray(header?.roles) ? header.roles : []) {
    if (!role || typeof role.name !== 'string' || !ROLE_NAME.test(role.name)) continue
    roles.push({
      name: role.name,
      description: typeof role.description === 'string' ? role.description.slice(0, 200) : '',
      permissions: Array.isArray(role.permissions)
        ? role.permissions.filter((p) => typeof p === 'string' && isPermission(p))
        : [],
    })
  }
  return roles
}

/**
 * Kitsune's own JSON lines: what `kitsune export` writes (a header line, then one account per
 * line), or hand-made lines `{email, password_hash, …}`.
 */
export function jsonlSource(
  header: KitsuneExportHeader | undefined,
  openTotp?: (sealed: string, context: string) => string,
): ImportSource {
  return {
    roles: headerRoles(header),
    async *read(path) {
      let first = true
      for await (const item of jsonLinesFile(path)) {
        if (first && 'value' in item && isExportHeader(item.value)) {
          first = false
          continue
        }
        first = false
        yield item
      }
    },
    map: (value, line) => mapKitsuneLine(value, line, openTotp),
  }
}
