import { isSupportedHash } from '../auth/password-hasher.js'
import { USER_ROLE } from '../auth/permissions.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import type { Clock } from '../lib/clock.js'
import { normalizeEmail } from '../lib/email.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'

export interface ImportLineError {
  line: number
  message: string
}

export interface ImportResult {
  imported: number
  errors: ImportLineError[]
  /** False when errors stopped the import and nothing was written. */
  committed: boolean
}

interface ImportRecord {
  line: number
  email: string
  full_name: string | null
  password_hash: string
  is_active: boolean
  roles: string[]
}

const FIELDS = new Set(['email', 'full_name', 'password_hash', 'is_active', 'roles'])

function parseLine(text: string, line: number): ImportRecord | ImportLineError {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { line, message: 'not valid JSON' }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { line, message: 'not a JSON object' }
  const record = value as Record<string, unknown>
  const unknown = Object.keys(record).filter((key) => !FIELDS.has(key))
  if (unknown.length > 0) return { line, message: `unknown field(s): ${unknown.join(', ')}` }
  const email = typeof record.email === 'string' ? normalizeEmail(record.email) : undefined
  if (!email) return { line, message: 'email is missing or invalid' }
  if (typeof record.password_hash !== 'string' || !isSupportedHash(record.password_hash)) {
    return { line, message: 'password_hash must be a bcrypt ($2a$/$2b$/$2y$) or argon2id hash' }
  }
  if (
    record.full_name !== undefined &&
    record.full_name !== null &&
    (typeof record.full_name !== 'string' || record.full_name.length > 200)
  ) {
    return { line, message: 'full_name must be a string of at most 200 characters' }
  }
  if (record.is_active !== undefined && typeof record.is_active !== 'boolean')
    return { line, message: 'is_active must be a boolean' }
  const roles = record.roles ?? [USER_ROLE]
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string'))
    return { line, message: 'roles must be an array of role names' }
  return {
    line,
    email,
    full_name: typeof record.full_name === 'string' ? record.full_name.trim() || null : null,
    password_hash: record.password_hash,
    is_active: record.is_active ?? true,
    roles: [...new Set(roles as string[])].sort(),
  }
}

/**
 * Imports accounts from JSON lines `{email, full_name, password_hash, is_active, roles}` (e.g. from
 * Kitsune's Python design, whose bcrypt hashes keep working and are upgraded to argon2id at the
 * owner's next login). All in one transaction: a bad file imports nothing, unless `skipInvalid`,
 * which imports the good lines and reports the bad ones by line number.
 */
export function createUserImportService(deps: {
  uow: UnitOfWork<Repositories>
  audit: AuditService
  clock: Clock
}) {
  const { uow, audit, clock } = deps
  return {
    async importLines(lines: Iterable<string>, options: { skipInvalid: boolean }): Promise<ImportResult> {
      const errors: ImportLineError[] = []
      const records: ImportRecord[] = []
      const seen = new Map<string, number>()
      let number = 0
      for (const text of lines) {
        number++
        if (text.trim() === '') continue
        const parsed = parseLine(text, number)
        if ('message' in parsed) errors.push(parsed)
        else if (seen.has(parsed.email))
          errors.push({ line: number, message: `duplicate of line ${seen.get(parsed.email)}` })
        else {
          seen.set(parsed.email, number)
          records.push(parsed)
        }
      }
      return uow.run(async (repos, tx) => {
        const known = new Set(await repos.roles.existing([...new Set(records.flatMap((r) => r.roles))]))
        const valid: ImportRecord[] = []
        for (const record of records) {
          const missing = record.roles.filter((role) => !known.has(role))
          if (missing.length > 0)
            errors.push({ line: record.line, message: `unknown role(s): ${missing.join(', ')}` })
          else if (await repos.users.findCredentialsByEmail(record.email))
            errors.push({ line: record.line, message: 'e-mail already registered' })
          else valid.push(record)
        }
        errors.sort((a, b) => a.line - b.line)
        if (errors.length > 0 && !options.skipInvalid) return { imported: 0, errors, committed: false }
        const now = clock.now()
        for (const record of valid) {
          const id = uuidv7()
          await repos.users.insert({
            id,
            email: record.email,
            full_name: record.full_name,
            password_hash: record.password_hash,
            is_active: record.is_active,
            created_at: now,
            updated_at: now,
            password_changed_at: now,
          })
          await repos.roles.setUserRoles(id, record.roles)
        }
        if (valid.length > 0) {
          await audit.record(repos, tx, undefined, {
            action: 'user.created',
            actorId: null,
            metadata: { import: true, count: valid.length },
          })
        }
        return { imported: valid.length, errors, committed: true }
      })
    },
  }
}

export type UserImportService = ReturnType<typeof createUserImportService>
