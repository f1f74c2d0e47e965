import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { Clock } from '../lib/clock.js'

export interface AdminOverviewCounts {
  users: number
  activeSessions: number
  signIns24h: number
  failedSignIns24h: number
}

const DAY_MS = 86_400_000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Reads for the admin console that no other service offers. The overview's counts: accounts, live sessions, and sign-ins and failed sign-ins
 * in the last 24 hours as the audit log records them. Read-only; the console shows each count only
 * to those whose permissions cover what it counts.
 */
export function createAdminOverviewService(deps: { db: Kysely<Database>; clock: Clock }) {
  const { db, clock } = deps
  return {
    /** The e-mail addresses of these accounts (those that still exist), for naming them in lists. */
    async emailsOf(ids: readonly string[]): Promise<Map<string, string>> {
      const unique = [...new Set(ids)].filter((id) => UUID.test(id))
      if (unique.length === 0) return new Map()
      const rows = await db.selectFrom('users').select(['id', 'email']).where('id', 'in', unique).execute()
      return new Map(rows.map((row) => [row.id, row.email]))
    },

    async counts(): Promise<AdminOverviewCounts> {
      const now = clock.now()
      const since = new Date(now.getTime() - DAY_MS)
      const [users, sessions, signIns] = await Promise.all([
        db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('sessions')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('audit_logs')
          .select(['action', (eb) => eb.fn.countAll<string>().as('n')])
          .where('action', 'in', ['user.login', 'user.login_failed'])
          .where('at', '>=', since)
          .groupBy('action')
          .execute(),
      ])
      const countOf = (action: string) => Number(signIns.find((row) => row.action === action)?.n ?? 0)
      return {
        users: Number(users.n),
        activeSessions: Number(sessions.n),
        signIns24h: countOf('user.login'),
        failedSignIns24h: countOf('user.login_failed'),
      }
    },
  }
}

export type AdminOverviewService = ReturnType<typeof createAdminOverviewService>
