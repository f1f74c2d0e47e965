import { createSecretBox } from '../auth/secret-box.js'
import { type Kysely, sql } from '../db/kysely.js'
import { migrations } from '../db/migrations/index.js'
import { pendingMigrations } from '../db/migrator.js'
import type { Database } from '../db/schema.js'
import { createUnitOfWork } from '../db/unit-of-work.js'
import { systemClock } from '../lib/clock.js'
import { createRepositories } from '../repositories/repositories.js'
import { createAuditService } from './audit.service.js'
import { totpSealContext } from './mfa.service.js'
import { signingKeySealContext } from './signing-key.service.js'

/** What a check found; the runner (doctor.service.ts) adds the name, timing and scrubbing. */
export interface CheckOutcome {
  readonly status: 'ok' | 'fail' | 'skip'
  readonly detail: string
}
export const ok = (detail: string): CheckOutcome => ({ status: 'ok', detail })
export const fail = (detail: string): CheckOutcome => ({ status: 'fail', detail })
export const skip = (detail: string): CheckOutcome => ({ status: 'skip', detail })

/** How many of the newest audit entries the doctor re-hashes (`kitsune audit verify` walks them all). */
const AUDIT_TAIL = 20
const WRONG_SECRET_KEY =
  'SECRET_KEY is not the one these keys were sealed with (restore the original SECRET_KEY)'

/** Pending migrations, and migrations applied by a release newer than this one. */
export async function checkMigrations(
  db: Kysely<Database>,
): Promise<{ outcome: CheckOutcome; pending: readonly string[] }> {
  const pending = await pendingMigrations(db)
  const applied = await sql<{ name: string }>`SELECT name FROM kitsune_migration ORDER BY name`
    .execute(db)
    .then((result) => result.rows.map((row) => row.name))
    // No migration table yet: nothing was ever applied.
    .catch(() => [] as string[])
  const unknown = applied.filter((name) => !(name in migrations))
  const problems: string[] = []
  if (pending.length > 0)
    problems.push(
      applied.length === 0
        ? `none of the ${pending.length} migrations is applied (a new database?): run kitsune migrate`
        : `${pending.length} pending: ${pending.join(', ')}: run kitsune migrate`,
    )
  const latest = Object.keys(migrations).sort().at(-1) ?? ''
  const newer = unknown.filter((name) => name > latest)
  const foreign = unknown.filter((name) => name <= latest)
  if (foreign.length > 0) problems.push(`applied but not in this release's history: ${foreign.join(', ')}`)
  if (problems.length > 0) return { outcome: fail(problems.join('; ')), pending }
  // Migrations are backwards compatible with the previous release (expand, then contract later):
  // this release runs on a newer release's schema, as during a rolling upgrade or a rollback.
  const known = applied.length - newer.length
  return {
    outcome: ok(
      newer.length > 0
        ? `${known} applied, none pending; also ${newer.join(', ')} from a newer release (this release runs on its schema: a rolling upgrade or a rollback)`
        : `${applied.length} applied, none pending (latest ${applied.at(-1) ?? 'none'})`,
    ),
    pending,
  }
}

/** Every usable signing key, and one TOTP secret if any, opens with this SECRET_KEY. */
export async function checkKeys(db: Kysely<Database>, secretKey: string): Promise<CheckOutcome> {
  const repos = createRepositories(db)
  const box = createSecretBox(secretKey)
  const opens = (sealed: string, context: string) => {
    try {
      box.open(sealed, context)
      return true
    } catch {
      return false
    }
  }
  const keys = await repos.signingKeys.listUsable(systemClock.now())
  const sealedShut = keys.filter((key) => !opens(key.private_key_enc, signingKeySealContext(key.kid)))
  // One is enough: every TOTP secret is sealed with the same SECRET_KEY.
  const totp = await db.selectFrom('mfa_totp').select(['user_id', 'secret_enc']).limit(1).executeTakeFirst()
  const totpOpens = totp === undefined || opens(totp.secret_enc, totpSealContext(totp.user_id))
  if (sealedShut.length > 0) {
    const kids = sealedShut.map((key) => key.kid).join(', ')
    return fail(
      `${sealedShut.length} of ${keys.length} signing keys do not open (${kids}): ${WRONG_SECRET_KEY}`,
    )
  }
  if (!totpOpens) return fail(`a TOTP secret (user ${totp?.user_id}) does not open: ${WRONG_SECRET_KEY}`)
  const current = keys
    .filter((key) => key.retired_at === null)
    .map((key) => key.algorithm)
    .sort()
  const retired = keys.length - current.length
  const totpSaid = totp ? ', a TOTP secret opens too' : ''
  if (keys.length === 0)
    return ok(`no signing keys yet (the service creates them when it first starts)${totpSaid}`)
  return ok(
    `${keys.length} signing keys open with SECRET_KEY (current: ${current.join(', ')}${retired ? `; ${retired} retired, still verifying` : ''})${totpSaid}`,
  )
}

/**
 * audit_head names the newest entry (seq and hash), and the newest AUDIT_TAIL entries verify. The
 * audit service's own verify() does the hashing: it walks from the retention anchor, so it is handed
 * the entry just before the tail as its anchor and checks only the tail, with the very same code.
 */
export async function checkAuditHead(db: Kysely<Database>, secretKey: string): Promise<CheckOutcome> {
  const repos = createRepositories(db)
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst()
  if (!head) return fail('audit_head has no row')
  const tail = await repos.auditLog.list({ limit: AUDIT_TAIL + 1 })
  const newest = tail[0]
  if (!newest) {
    const start = (await repos.auditLog.anchor())?.hash ?? ''
    if (head.seq === null && head.hash === start) return ok('the log has no entries yet')
    return fail(
      `audit_head names entry ${head.seq ?? '(none)'} but the log has no entries: its tail was deleted`,
    )
  }
  if (head.seq !== newest.seq || head.hash !== newest.hash)
    return fail(
      `audit_head (seq ${head.seq ?? 'none'}) does not match the newest entry (seq ${newest.seq}): the head or the log's tail was changed`,
    )
  const before = tail[AUDIT_TAIL]
  const auditLog = before
    ? { ...repos.auditLog, anchor: async () => ({ seq: before.seq, hash: before.hash }) }
    : repos.auditLog
  const uow = createUnitOfWork(
    db,
    (executor) => ({ ...createRepositories(executor), auditLog }),
    () => {},
  )
  const audit = createAuditService({ uow, secretKey, clock: systemClock, logger: { info() {} } })
  const result = await audit.verify()
  if (!result.ok)
    return fail(
      `entry ${result.first_bad_id} does not verify: the log was changed, or SECRET_KEY is not the one it was written with (kitsune audit verify checks the whole log)`,
    )
  return ok(`head at entry ${newest.seq}; the newest ${result.checked} entries verify`)
}

/** The database's clock against this machine's, corrected by half the round trip. */
export async function checkClock(db: Kysely<Database>, maxSkewMs: number): Promise<CheckOutcome> {
  const sent = Date.now()
  const { rows } = await sql<{ now: Date }>`SELECT now() AS now`.execute(db)
  const received = Date.now()
  const roundTrip = received - sent
  // The database read its clock about halfway through the round trip.
  const skew = new Date(rows[0]?.now ?? Number.NaN).getTime() - (sent + roundTrip / 2)
  if (!Number.isFinite(skew)) return fail('the database returned no time')
  const size =
    Math.abs(skew) < 1000 ? `${Math.round(Math.abs(skew))} ms` : `${(Math.abs(skew) / 1000).toFixed(1)} s`
  const said = `database clock ${size} ${skew >= 0 ? 'ahead of' : 'behind'} this machine (round trip ${roundTrip} ms)`
  if (Math.abs(skew) > maxSkewMs)
    return fail(`${said}: tokens and TOTP codes need clocks in step (check NTP on both)`)
  return ok(said)
}
