import { type FirebaseHashParams, ForeignHashError, fromFirebase } from '../auth/foreign-hashes.js'
import { NO_PASSWORD } from '../auth/password-hasher.js'
import { boolOf, emailOf, idFields, type Mapped, nameOf, timeOf, withUserRole } from './import-record.js'
import { jsonArrayFile } from './readers.js'
import type { ImportSource } from './sources.js'

type Json = Record<string, unknown>

/** One user of `firebase auth:export users.json --format=json`. */
export function mapFirebaseUser(value: unknown, line: number, params: FirebaseHashParams): Mapped {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { line, error: 'not a JSON object' }
  const user = value as Json
  const email = emailOf(user.email)
  if (!email) return { line, error: 'no valid e-mail address (phone-only users are not imported)' }
  let passwordHash = NO_PASSWORD
  if (typeof user.passwordHash === 'string' && user.passwordHash !== '') {
    try {
      passwordHash = fromFirebase({ passwordHash: user.passwordHash, salt: String(user.salt ?? '') }, params)
    } catch (error) {
      if (error instanceof ForeignHashError) return { line, error: `passwordHash: ${error.message}` }
      throw error
    }
  }
  const notes: string[] = []
  const providers = (Array.isArray(user.providerUserInfo) ? (user.providerUserInfo as Json[]) : [])
    .map((p) => String(p?.providerId))
    .filter((p) => p !== 'password')
  if (providers.length > 0) notes.push(`linked identities not imported: ${providers.join(', ')}`)
  if (user.mfaInfo)
    notes.push('multi-factor enrolments not imported (Firebase does not export their secrets)')
  if (passwordHash === NO_PASSWORD) notes.push('no password: signs in after a password reset')
  return {
    line,
    ...idFields(user.localId),
    email,
    emailVerified: boolOf(user.emailVerified) ?? false,
    fullName: nameOf(user.displayName),
    passwordHash,
    isActive: !boolOf(user.disabled),
    createdAt: timeOf(user.createdAt),
    roles: withUserRole([]),
    ...(notes.length > 0 ? { notes } : {}),
  }
}

export function firebaseSource(params: FirebaseHashParams): ImportSource {
  return {
    read: (path) => jsonArrayFile(path, 'users'),
    map: (value, line) => mapFirebaseUser(value, line, params),
  }
}
