import type { DatabaseHandle } from '../db/database.js'
import { pendingMigrations } from '../db/migrator.js'
import type { Clock } from '../lib/clock.js'
import { within } from '../lib/within.js'
import type { Store } from '../stores/store.js'

export type CheckStatus = 'ok' | 'down' | 'disabled' | 'pending'

export interface Readiness {
  status: 'ok' | 'unavailable'
  checks: { database: CheckStatus; redis: CheckStatus; migrations: CheckStatus }
}

const CHECK_TIMEOUT_MS = 1000

export function createHealthService(deps: { database: DatabaseHandle; store: Store }) {
  const { database, store } = deps
  let migrationsApplied = false

  return {
    /** Each dependency answers within a second, or the instance is not ready. */
    async readiness(): Promise<Readiness> {
      const [db, redis, migrations] = await Promise.all([
        within(CHECK_TIMEOUT_MS, database.ping(CHECK_TIMEOUT_MS)).then(
          () => 'ok' as const,
          () => 'down' as const,
        ),
        store.kind === 'redis'
          ? within(CHECK_TIMEOUT_MS, store.ping()).then(
              () => 'ok' as const,
              () => 'down' as const,
            )
          : Promise.resolve('disabled' as const),
        // Once applied, migrations stay applied for this process's code.
        migrationsApplied
          ? Promise.resolve('ok' as const)
          : within(CHECK_TIMEOUT_MS, pendingMigrations(database.db)).then(
              (pending) => {
                migrationsApplied = pending.length === 0
                return migrationsApplied ? ('ok' as const) : ('pending' as const)
              },
              () => 'down' as const,
            ),
      ])
      const ok = db === 'ok' && redis !== 'down' && migrations === 'ok'
      return { status: ok ? 'ok' : 'unavailable', checks: { database: db, redis, migrations } }
    },
  }
}

export type HealthService = ReturnType<typeof createHealthService>

/**
 * Where e-mails go, as the admin overview shows it: `log` without SMTP_URL (messages are written
 * to the log, not sent), else whether the SMTP server answered the last check. Never part of
 * readiness: an instance with its mail server down still serves sign-ins.
 */
export type MailStatus = 'log' | 'ok' | 'down'

/** How long a mail check's answer is reused: a page render never opens an SMTP connection of its own. */
export const MAIL_CHECK_TTL_MS = 60_000
const MAIL_CHECK_TIMEOUT_MS = 2000

/**
 * Connects to the SMTP server of SMTP_URL, greets it (and signs in when the URL carries
 * credentials), then hangs up: nodemailer's verify(), with every wait cut to `timeoutMs`.
 */
export async function verifySmtp(smtpUrl: string, timeoutMs: number): Promise<void> {
  const { default: nodemailer } = await import('nodemailer')
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  })
  try {
    await transport.verify()
  } finally {
    transport.close()
  }
}

export interface MailCheck {
  /** The mail status, checked at most once a minute (concurrent callers share one check). */
  status(): Promise<MailStatus>
}

export function createMailCheck(deps: {
  /** SMTP_URL, undefined when e-mails go to the log. */
  smtpUrl: string | undefined
  clock: Clock
  /** The SMTP handshake (tests replace it). */
  verify?: (smtpUrl: string, timeoutMs: number) => Promise<void>
  timeoutMs?: number
}): MailCheck {
  const { smtpUrl, clock } = deps
  const verify = deps.verify ?? verifySmtp
  const timeoutMs = deps.timeoutMs ?? MAIL_CHECK_TIMEOUT_MS
  let last: { at: number; status: Promise<MailStatus> } | undefined

  return {
    status() {
      if (!smtpUrl) return Promise.resolve('log')
      const now = clock.now().getTime()
      if (!last || now - last.at >= MAIL_CHECK_TTL_MS || now < last.at) {
        last = {
          at: now,
          status: within(timeoutMs + 500, verify(smtpUrl, timeoutMs)).then(
            () => 'ok' as const,
            () => 'down' as const,
          ),
        }
      }
      return last.status
    },
  }
}
