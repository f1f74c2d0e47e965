import { ForeignHashError, normalizeImportedHash } from '../auth/foreign-hashes.js'
import { NO_PASSWORD } from '../auth/password-hasher.js'
import {
  boolOf,
  emailOf,
  idFields,
  jsonObjectOf,
  type Mapped,
  nameOf,
  timeOf,
  withUserRole,
} from './import-record.js'
import { csvFile, firstCharacter, jsonArrayFile, jsonLinesFile } from './readers.js'
import type { ImportSource } from './sources.js'

type Json = Record<string, unknown>

/** One row of Supabase's `auth.users` (JSON from `row_to_json`, or a CSV row with text values). */
export function mapSupabaseUser(value: unknown, line: number, now = new Date()): Mapped {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { line, error: 'not a JSON object' }
  const row = value as Json
  if (row.deleted_at) return { line, skip: 'deleted in Supabase' }
  if (boolOf(row.is_anonymous)) return { line, skip: 'an anonymous user' }
  const email = emailOf(row.email)
  if (!email) return { line, error: 'no valid e-mail address (phone-only users are not imported)' }
  let passwordHash = NO_PASSWORD
  if (typeof row.encrypted_password === 'string' && row.encrypted_password !== '') {
    try {
      passwordHash = normalizeImportedHash(row.encrypted_password)
    } catch (error) {
      if (error instanceof ForeignHashError) return { line, error: `encrypted_password: ${error.message}` }
      throw error
    }
  }
  const meta = jsonObjectOf(row.raw_user_meta_data)
  const bannedUntil = timeOf(row.banned_until)
  const notes: string[] = []
  if (boolOf(row.is_sso_user)) notes.push('an SSO user: signs in after a password reset')
  else if (passwordHash === NO_PASSWORD) notes.push('no password: signs in after a password reset')
  return {
    line,
    ...idFields(row.id),
    email,
    // confirmed_at is the earlier of the e-mail and phone confirmations: only rows from before
    // email_confirmed_at existed fall back to it, or a confirmed phone would verify the e-mail.
    emailVerified: Boolean(timeOf('email_confirmed_at' in row ? row.email_confirmed_at : row.confirmed_at)),
    fullName: nameOf(meta.full_name ?? meta.name),
    passwordHash,
    isActive: !(bannedUntil && bannedUntil > now),
    createdAt: timeOf(row.created_at),
    roles: withUserRole([]),
    ...(notes.length > 0 ? { notes } : {}),
  }
}

/**
 * `auth.users` as CSV (`\copy auth.users to 'users.csv' with (format csv, header)`), as a JSON array,
 * or as JSON lines (`psql -At -c "select row_to_json(u) from auth.users u" > users.jsonl`; not
 * `\copy … to`, whose text format doubles backslashes and breaks a name with a quote).
 */
export const supabaseSource: ImportSource = {
  async *read(path) {
    const first = await firstCharacter(path)
    if (first === '[') yield* jsonArrayFile(path)
    else if (first === '{') yield* jsonLinesFile(path)
    else yield* csvFile(path)
  },
  map: (value, line) => mapSupabaseUser(value, line),
}
