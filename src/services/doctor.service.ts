import type { Config, DatabaseConfig, Environment } from '../config/config.schema.js'
import { ConfigError, loadConfig } from '../config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../db/database.js'
import { sql } from '../db/kysely.js'
import { describeNetworkError } from '../lib/network-error.js'
import { TimedOut, within } from '../lib/within.js'
import { probeSmtp } from '../mail/smtp-probe.js'
import { probeRedis } from '../stores/redis-probe.js'
import {
  type CheckOutcome,
  checkAuditHead,
  checkClock,
  checkKeys,
  checkMigrations,
  fail,
  ok,
  skip,
} from './doctor-checks.js'

export const DOCTOR_CHECKS = [
  'config',
  'database',
  'migrations',
  'keys',
  'audit head',
  'redis',
  'smtp',
  'clock',
] as const
export type DoctorCheckName = (typeof DOCTOR_CHECKS)[number]

export interface DoctorResult {
  readonly name: DoctorCheckName
  readonly status: 'ok' | 'fail' | 'skip'
  /** One line; a configuration failure has one line per problem. Never holds a secret. */
  readonly detail: string
  /** How long the check took, for those that did I/O. */
  readonly ms?: number
}

export const DOCTOR_TIMEOUT_MS = 3000
/** Booting the embedded database compiles PGlite's WebAssembly: seconds of CPU, not a hang. */
const PGLITE_OPEN_TIMEOUT_MS = 30_000
const MAX_CLOCK_SKEW_MS = 2000

/** `postgres://user:***@host/db`: the password of any URL in a line is replaced. */
export function maskUrlPasswords(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@')
}

/** Every secret the configuration holds, so no line can print one even inside an error message. */
function secretsOf(config: Config | undefined): string[] {
  if (!config) return []
  const passwords = [config.database.url, config.redisUrl, config.smtpUrl].flatMap((raw) => {
    if (!raw) return []
    try {
      return [decodeURIComponent(new URL(raw).password)]
    } catch {
      return []
    }
  })
  return [config.secretKey, config.jwt.secret, config.admin?.password, ...passwords].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 4,
  )
}

export function describeDatabase(database: DatabaseConfig): string {
  if (database.kind === 'pglite')
    return database.pgliteDataDir === 'memory'
      ? 'embedded PGlite in memory'
      : `embedded PGlite in ${database.pgliteDataDir}`
  const url = new URL(database.url ?? '')
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`
}

/**
 * Runs every check in order, each bounded by a timeout, handing each result to `report` as soon as
 * it is known. A failure never stops the checks that follow; a check that needs a failed one is
 * skipped with the reason. Builds only what each check needs (never createKitsune, which migrates
 * and waits for Redis): it is what an operator runs when something is wrong.
 */
export async function runDoctor(
  options: { env?: Environment; report?: (result: DoctorResult) => void; timeoutMs?: number } = {},
): Promise<DoctorResult[]> {
  const timeoutMs = options.timeoutMs ?? DOCTOR_TIMEOUT_MS
  const results: DoctorResult[] = []
  let config: Config | undefined
  let secrets: string[] = []
  const record = (name: DoctorCheckName, outcome: CheckOutcome, ms?: number) => {
    let detail = maskUrlPasswords(outcome.detail)
    for (const secret of secrets) detail = detail.split(secret).join('***')
    const result: DoctorResult = { name, status: outcome.status, detail, ...(ms === undefined ? {} : { ms }) }
    results.push(result)
    options.report?.(result)
    return result
  }
  const run = async (
    name: DoctorCheckName,
    check: () => Promise<CheckOutcome>,
    { limit = timeoutMs, failPrefix = '' } = {},
  ) => {
    const started = performance.now()
    let outcome: CheckOutcome
    try {
      outcome = await within(limit, check())
    } catch (error) {
      outcome = fail(
        `${failPrefix}${error instanceof TimedOut ? error.message : describeNetworkError(error)}`,
      )
    }
    return record(name, outcome, Math.round(performance.now() - started))
  }

  try {
    config = loadConfig(options.env, { createSecretKey: false })
    secrets = secretsOf(config)
    record('config', ok(`NODE_ENV=${config.nodeEnv}, database ${describeDatabase(config.database)}`))
  } catch (error) {
    record(
      'config',
      fail(error instanceof ConfigError ? error.problems.join('\n') : describeNetworkError(error)),
    )
    for (const name of DOCTOR_CHECKS.slice(1)) record(name, skip('the configuration is invalid'))
    return results
  }
  const cfg = config

  // The network probes do not need the database: start them now, report them in their turn.
  const probe = (url: string, work: () => Promise<string>): Promise<CheckOutcome & { ms: number }> => {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const outcome = within(timeoutMs + 500, work()).then(
      (detail) => ({ ...ok(detail), ms: elapsed() }),
      (error: Error) => {
        // The probes name the address in their own errors; the overall timeout does not.
        const detail = error instanceof TimedOut ? `${new URL(url).host}: ${error.message}` : error.message
        return { ...fail(detail), ms: elapsed() }
      },
    )
    return outcome
  }
  const redisUrl = cfg.redisUrl
  const redis =
    redisUrl &&
    probe(redisUrl, async () => {
      const { address, version } = await probeRedis(redisUrl, cfg.redisKeyPrefix, timeoutMs)
      const server = version ? ` (Redis ${version})` : ''
      return `${address}${server}: PING, probe key set, read and deleted under prefix "${cfg.redisKeyPrefix}"`
    })
  const smtpUrl = cfg.smtpUrl
  const smtp =
    smtpUrl &&
    probe(smtpUrl, async () => {
      const { address, extensions } = await probeSmtp(smtpUrl, timeoutMs)
      const offers = extensions.length > 0 ? ` (offers ${extensions.join(', ')})` : ''
      return `${address}: 220 greeting, EHLO accepted${offers}`
    })

  let database: DatabaseHandle | undefined
  const where = describeDatabase(cfg.database)
  const opening = createDatabase(
    { ...cfg.database, poolMax: 1, logQueries: false },
    { info() {}, error() {} },
  )
  try {
    const dbResult = await run(
      'database',
      async () => {
        database = await opening
        const started = performance.now()
        const { rows } = await sql<{ version: string }>`SELECT version() AS version`.execute(database.db)
        const version = /^\S+ [\d.]+/.exec(rows[0]?.version ?? '')?.[0] ?? 'PostgreSQL'
        const ms = Math.round(performance.now() - started)
        const at = cfg.database.kind === 'pglite' ? `, ${where}` : ` at ${where}`
        return ok(`${version}${at} (${ms} ms)`)
      },
      {
        limit: cfg.database.kind === 'pglite' ? PGLITE_OPEN_TIMEOUT_MS : timeoutMs,
        failPrefix: `${where}: `,
      },
    )
    const db = dbResult.status === 'ok' ? database?.db : undefined

    let schemaComplete = false
    if (!db) record('migrations', skip('the database check failed'))
    else {
      let pending: readonly string[] | undefined
      await run('migrations', async () => {
        const checked = await checkMigrations(db)
        pending = checked.pending
        return checked.outcome
      })
      // Migrations applied by a newer release add to the schema: this one's checks still work.
      schemaComplete = pending?.length === 0
    }

    if (!db || !schemaComplete) {
      const reason = db ? 'the database schema is not up to date' : 'the database check failed'
      record('keys', skip(reason))
      record('audit head', skip(reason))
    } else {
      await run('keys', () => checkKeys(db, cfg.secretKey))
      await run('audit head', () => checkAuditHead(db, cfg.secretKey))
    }

    if (redis) {
      const { ms, ...outcome } = await redis
      record('redis', outcome, ms)
    } else record('redis', skip('REDIS_URL not set: in-process stores, fine for one instance only'))
    if (smtp) {
      const { ms, ...outcome } = await smtp
      record('smtp', outcome, ms)
    } else record('smtp', skip('SMTP_URL not set: e-mails are written to the log'))

    if (!db) record('clock', skip('the database check failed'))
    else await run('clock', () => checkClock(db, MAX_CLOCK_SKEW_MS))
  } finally {
    // An open that lost its race still finishes some time: close it then, so the process can end.
    opening.then((handle) => handle.close()).catch(() => {})
    await database?.close().catch(() => {})
  }
  return results
}
