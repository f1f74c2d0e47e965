import { ForeignHashError, normalizeImportedHash } from '../auth/foreign-hashes.js'
import { NO_PASSWORD } from '../auth/password-hasher.js'
import { boolOf, emailOf, idFields, type Mapped, nameOf, timeOf, withUserRole } from './import-record.js'
import { jsonLinesFile } from './readers.js'
import type { ImportSource } from './sources.js'

type Json = Record<string, unknown>

/**
 * One line of Auth0's password-hash export (`{_id: {$oid}, email, email_verified, passwordHash}`)
 * or of a bulk user export job (`{user_id, email, email_verified, name, created_at, blocked}`).
 */
export function mapAuth0User(value: unknown, line: number): Mapped {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { line, error: 'not a JSON object' }
  const user = value as Json
  const email = emailOf(user.email)
  if (!email) return { line, error: 'no valid e-mail address' }
  const hash = user.passwordHash ?? user.password_hash
  let passwordHash = NO_PASSWORD
  if (typeof hash === 'string' && hash !== '') {
    try {
      passwordHash = normalizeImportedHash(hash)
    } catch (error) {
      if (error instanceof ForeignHashError) return { line, error: `passwordHash: ${error.message}` }
      throw error
    }
  }
  const oid = (user._id as Json | undefined)?.$oid
  const sourceId =
    typeof user.user_id === 'string' ? user.user_id : typeof oid === 'string' ? `auth0|${oid}` : undefined
  const notes = passwordHash === NO_PASSWORD ? ['no password: signs in after a password reset'] : []
  return {
    line,
    ...idFields(sourceId),
    email,
    emailVerified: boolOf(user.email_verified) ?? false,
    fullName: nameOf(user.name) ?? nameOf(user.given_name, user.family_name),
    passwordHash,
    isActive: !boolOf(user.blocked),
    createdAt: timeOf(user.created_at),
    roles: withUserRole([]),
    ...(notes.length > 0 ? { notes } : {}),
  }
}

export const auth0Source: ImportSource = {
  read: jsonLinesFile,
  map: mapAuth0User,
}
