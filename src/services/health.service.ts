import type { DatabaseHandle } from '../db/database.js'
import { pendingMigrations } from '../db/migrator.js'
import type { Store } from '../stores/store.js'

export type CheckStatus = 'ok' | 'down' | 'disabled' | 'pending'

export interface Readiness {
  status: 'ok' | 'unavailable'
  checks: { database: CheckStatus; redis: CheckStatus; migrations: CheckStatus }
}

const CHECK_TIMEOUT_MS = 1000

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  // Work that fails after the timeout won the race has nobody waiting for it.
  work.catch(() => {})
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

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
