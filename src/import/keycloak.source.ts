import { ForeignHashError, fromKeycloak } from '../auth/foreign-hashes.js'
import { NO_PASSWORD } from '../auth/password-hasher.js'
import { ADMIN_ROLE } from '../auth/permissions.js'
import {
  base32,
  boolOf,
  emailOf,
  idFields,
  jsonObjectOf,
  type Mapped,
  nameOf,
  roleNameOf,
  timeOf,
  totpSecretOf,
  withUserRole,
} from './import-record.js'
import { jsonArrayFile } from './readers.js'
import type { ImportSource } from './sources.js'

type Json = Record<string, unknown>

/** What a Keycloak realm role named `admin` is imported as: never Kitsune's own admin role. */
export const KEYCLOAK_ADMIN_ROLE = 'keycloak-admin'

/** Keycloak's built-in realm roles: they mean nothing in Kitsune (`default-roles-*` is its `user`). */
const KEYCLOAK_BUILT_IN = /^(offline_access|uma_authorization|default-roles-.*)$/

function passwordOf(credential: Json): string {
  const secret = jsonObjectOf(credential.secretData)
  const data = jsonObjectOf(credential.credentialData)
  return fromKeycloak({
    algorithm: String(data.algorithm ?? credential.algorithm ?? ''),
    iterations: Number(data.hashIterations ?? credential.hashIterations),
    value: String(secret.value ?? credential.hashedSaltedValue ?? ''),
    salt: String(secret.salt ?? credential.salt ?? ''),
    additionalParameters: (data.additionalParameters ?? {}) as Record<string, string[] | string>,
  })
}

/**
 * Keycloak keeps the OTP secret as text and uses its UTF-8 bytes as the key (its QR code shows
 * their base32); with `secretEncoding: BASE32` the text is already base32.
 */
function totpOf(credential: Json): { secret: string } | { error: string } {
  const secret = jsonObjectOf(credential.secretData)
  const data = jsonObjectOf(credential.credentialData)
  const subType = data.subType ?? (credential.type === 'hotp' ? 'hotp' : 'totp')
  const digits = Number(data.digits ?? credential.digits ?? 6)
  const period = Number(data.period ?? credential.period ?? 30)
  const algorithm = String(data.algorithm ?? credential.algorithm ?? 'HmacSHA1')
  if (subType !== 'totp' || digits !== 6 || period !== 30 || algorithm !== 'HmacSHA1') {
    return {
      error: `OTP credential is ${String(subType)}, ${digits} digits, ${period} s, ${algorithm}; Kitsune's authenticator codes are TOTP, 6 digits, 30 s, HmacSHA1`,
    }
  }
  const value = String(secret.value ?? credential.value ?? '')
  const base32Secret = totpSecretOf(
    data.secretEncoding === 'BASE32' ? value : base32(new TextEncoder().encode(value)),
  )
  return base32Secret
    ? { secret: base32Secret }
    : { error: 'OTP secret is shorter than 80 bits or malformed' }
}

export function mapKeycloakUser(value: unknown, line: number): Mapped {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { line, error: 'not a JSON object' }
  const user = value as Json
  if (user.serviceAccountClientId) return { line, skip: 'a client’s service account, not a person' }
  const email = emailOf(user.email) ?? emailOf(user.username)
  if (!email) return { line, error: 'no valid e-mail address (email, or a username that is one)' }
  const credentials = (Array.isArray(user.credentials) ? user.credentials : []) as Json[]
  const password = credentials.find((c) => c?.type === 'password')
  let passwordHash = NO_PASSWORD
  if (password) {
    try {
      passwordHash = passwordOf(password)
    } catch (error) {
      if (error instanceof ForeignHashError) return { line, error: `password: ${error.message}` }
      throw error
    }
  }
  // `otp` today; `totp`/`hotp` in exports from before Keycloak 11.
  const otp = credentials.find((c) => c?.type === 'otp' || c?.type === 'totp' || c?.type === 'hotp')
  let totpSecret: string | undefined
  if (otp) {
    const totp = totpOf(otp)
    if ('error' in totp) return { line, error: totp.error }
    totpSecret = totp.secret
  }
  const roles: string[] = []
  for (const name of Array.isArray(user.realmRoles) ? user.realmRoles : []) {
    if (typeof name !== 'string' || KEYCLOAK_BUILT_IN.test(name)) continue
    const mapped = roleNameOf(name)
    if ('error' in mapped) return { line, error: mapped.error }
    // A realm role named admin is an application's role; Kitsune's admin governs Kitsune itself.
    roles.push(mapped.role === ADMIN_ROLE ? KEYCLOAK_ADMIN_ROLE : mapped.role)
  }
  const notes: string[] = []
  const linked = Array.isArray(user.federatedIdentities) ? (user.federatedIdentities as Json[]) : []
  if (linked.length > 0)
    notes.push(`linked identities not imported: ${linked.map((l) => String(l?.identityProvider)).join(', ')}`)
  if (!password) notes.push('no password: signs in after a password reset')
  return {
    line,
    ...idFields(user.id),
    email,
    emailVerified: boolOf(user.emailVerified) ?? false,
    fullName: nameOf(user.firstName, user.lastName),
    passwordHash,
    isActive: boolOf(user.enabled) ?? true,
    createdAt: timeOf(user.createdTimestamp),
    roles: withUserRole(roles),
    ...(totpSecret ? { totpSecret } : {}),
    ...(notes.length > 0 ? { notes } : {}),
  }
}

/** A realm export (`kc.sh export`): the `users` array of the realm file or of a `*-users-N.json` file. */
export const keycloakSource: ImportSource = {
  read: (path) => jsonArrayFile(path, 'users'),
  map: mapKeycloakUser,
  createsRoles: true,
}
