import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { assertInHistory, fileAt, filesAt, PREVIOUS_RELEASE, ROOT } from '../helpers/previous-release.js'
import { compatibilityProblems, contractingStatements, contractMarker } from './migration-compat.js'

const MIGRATIONS = 'src/db/migrations'
const numbered = (name: string) => /^\d{4}-.+\.ts$/.test(name)
const number = (name: string) => Number(name.slice(0, 4))

describe(`migrations after the previous release (${PREVIOUS_RELEASE.version})`, () => {
  const previous = filesAt(PREVIOUS_RELEASE.commit, MIGRATIONS).filter(numbered)
  const lastPrevious = Math.max(...previous.map(number))
  const current = readdirSync(join(ROOT, MIGRATIONS)).filter(numbered)
  const added = current.filter((name) => number(name) > lastPrevious)

  it('names a previous release this clone has, and says how to get one it lacks', () => {
    expect(PREVIOUS_RELEASE.commit).toMatch(/^[0-9a-f]{40}$/)
    expect(() => assertInHistory(PREVIOUS_RELEASE.commit)).not.toThrow()
    expect(() => assertInHistory('0'.repeat(40))).toThrow(
      /not in this clone's history.*git fetch --unshallow/,
    )
  })

  it('keeps every migration the previous release shipped, unchanged (append-only)', () => {
    expect(previous.length).toBeGreaterThan(0)
    for (const name of previous) {
      expect(readFileSync(join(ROOT, MIGRATIONS, name), 'utf8'), name).toBe(
        fileAt(PREVIOUS_RELEASE.commit, `${MIGRATIONS}/${name}`),
      )
    }
  })

  it('only expand (a contracting statement needs a marker naming the release that stopped using it)', () => {
    const problems = added.flatMap((name) =>
      compatibilityProblems(
        name,
        readFileSync(join(ROOT, MIGRATIONS, name), 'utf8'),
        PREVIOUS_RELEASE.version,
      ),
    )
    expect(problems).toEqual([])
  })
})

describe('the contracting-statement checker', () => {
  const migration = (body: string, comment = '') => `import type { Kysely } from 'kysely'
import { sql } from '../kysely.js'
${comment}
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql\`${body}\`.execute(db)
}
`

  it.each([
    ['DROP TABLE legacy_tokens', 'DROP of a schema object'],
    ['DROP INDEX users_email_key', 'DROP of a schema object'],
    [
      'DROP FUNCTION kitsune_rotate_refresh_token(text, text, timestamptz, text, text)',
      'DROP of a schema object',
    ],
    ['ALTER TABLE users DROP COLUMN full_name', 'DROP COLUMN'],
    ['ALTER TABLE users DROP full_name', 'DROP COLUMN'],
    ['ALTER TABLE users DROP CONSTRAINT users_email_key', 'DROP CONSTRAINT'],
    ['ALTER TABLE users RENAME COLUMN full_name TO display_name', 'RENAME'],
    ['ALTER TABLE sessions RENAME TO user_sessions', 'RENAME'],
    ['ALTER TABLE users ALTER COLUMN full_name TYPE varchar(100)', 'ALTER COLUMN … TYPE'],
    ['ALTER TABLE users ALTER full_name SET DATA TYPE varchar(100)', 'ALTER COLUMN … TYPE'],
    ['ALTER TABLE users ALTER COLUMN full_name SET NOT NULL', 'SET NOT NULL'],
    ['ALTER TABLE users ADD COLUMN locale text NOT NULL', 'ADD COLUMN … NOT NULL without a DEFAULT'],
  ])('finds %s', (statement, rule) => {
    expect(contractingStatements(migration(statement)).map((s) => s.rule)).toContain(rule)
    expect(compatibilityProblems('0016-example.ts', migration(statement), '0.1.0')).toEqual([
      expect.stringMatching(/^0016-example\.ts: .* no "\/\/ contract: unused since <version>" marker$/),
    ])
  })

  it.each([
    'CREATE TABLE user_notes (id uuid PRIMARY KEY, body text NOT NULL)',
    "ALTER TABLE users ADD COLUMN locale text NOT NULL DEFAULT 'en'",
    'ALTER TABLE users ADD COLUMN nickname text',
    'ALTER TABLE users ALTER COLUMN full_name DROP NOT NULL',
    'ALTER TABLE users ALTER COLUMN locale DROP DEFAULT',
    'CREATE INDEX CONCURRENTLY users_created ON users (created_at)',
    'ALTER TABLE users ADD CONSTRAINT users_locale_known CHECK (locale IS NOT NULL) NOT VALID',
  ])('lets an expanding statement through: %s', (statement) => {
    expect(contractingStatements(migration(statement))).toEqual([])
  })

  it('ignores contracting words in comments', () => {
    const source = migration(
      'ALTER TABLE users ADD COLUMN nickname text',
      '// A later release will DROP TABLE legacy_tokens and RENAME this column.\n/* DROP COLUMN x */',
    )
    expect(contractingStatements(source)).toEqual([])
  })

  it('allows a contracting file whose marker names the previous release or an older one', () => {
    const source = migration(
      'ALTER TABLE users DROP COLUMN legacy_flag',
      '// contract: unused since 0.1.0 (users.legacy_flag)',
    )
    expect(contractMarker(source)).toBe('0.1.0')
    expect(compatibilityProblems('0016-drop-legacy-flag.ts', source, '0.1.0')).toEqual([])
    expect(compatibilityProblems('0016-drop-legacy-flag.ts', source, '0.2.0')).toEqual([])
  })

  it('refuses a marker naming a release newer than the previous one (it may still be running)', () => {
    const source = migration(
      'ALTER TABLE users DROP COLUMN legacy_flag',
      '// contract: unused since 0.2.0 (users.legacy_flag)',
    )
    expect(compatibilityProblems('0016-drop-legacy-flag.ts', source, '0.1.0')).toEqual([
      expect.stringContaining('its marker names 0.2.0, which is newer than the previous release 0.1.0'),
    ])
  })
})
