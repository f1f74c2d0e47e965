import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../src/db/unit-of-work.js'
import { uuidv7 } from '../../src/lib/uuid.js'
import type { Repositories } from '../../src/repositories/repositories.js'
import { createRepositories } from '../../src/repositories/repositories.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'
import { postgresTarget, TEST_DATABASE_URL } from '../helpers/test-targets.js'

/**
 * A process's audit appends go one at a time, and each waits inside the database for the chain
 * head's row lock. Three transactions on PostgreSQL (PGlite runs one transaction at a time):
 * T1 appended and so holds the head, then waits for a row T2 inserted; T3's append waits for T1's
 * head; T2 then appends, queued in the process behind T3. Only the database can break that cycle,
 * and only once T2's append reaches it.
 */
describe.skipIf(!TEST_DATABASE_URL)('audit appends that wait on each other (needs TEST_DATABASE_URL)', () => {
  let t: TestApp

  beforeAll(async () => {
    t = await buildTestApp({ target: postgresTarget })
  })
  afterAll(async () => t?.close())

  /** Resolves once some backend of the test database waits for a lock. */
  async function someoneWaitsForALock(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(t.kitsune.database.db)
      if (Number(rows[0]?.n) > 0) return
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error('no backend started waiting for a lock')
  }

  it('ends in a deadlock the database reports, not a hang, and the chain stays valid', async () => {
    const { database, services, clock } = t.kitsune
    const uow = createUnitOfWork(database.db, createRepositories, (error) => {
      throw error
    })
    const email = uniqueEmail('cycle')
    const insertUser = (repos: Repositories) => {
      const now = clock.now()
      return repos.users.insert({
        id: uuidv7(),
        email,
        full_name: null,
        password_hash: 'not a hash',
        created_at: now,
        updated_at: now,
        password_changed_at: now,
      })
    }
    const record = (repos: Repositories, tx: Parameters<typeof services.audit.record>[1]) =>
      services.audit.record(repos, tx, undefined, { action: 'user.updated', actorId: null })

    let t1Appended!: () => void
    const t1HoldsHead = new Promise<void>((resolve) => {
      t1Appended = resolve
    })
    let releaseT1!: () => void
    const t1MayGoOn = new Promise<void>((resolve) => {
      releaseT1 = resolve
    })
    const t1 = uow.run(async (repos, tx) => {
      await record(repos, tx)
      t1Appended()
      await t1MayGoOn
      await insertUser(repos) // waits for T2's uncommitted row with the same e-mail
    })
    await t1HoldsHead
    const t3 = uow.run((repos, tx) => record(repos, tx)) // waits in the database for T1's head
    await someoneWaitsForALock()
    let t2Inserted!: () => void
    const t2HoldsRow = new Promise<void>((resolve) => {
      t2Inserted = resolve
    })
    const t2 = uow.run(async (repos, tx) => {
      await insertUser(repos)
      t2Inserted()
      await record(repos, tx) // queued in this process behind T3
    })
    await t2HoldsRow
    releaseT1()

    // All three settle: the database detected the cycle and aborted one or more of them (which
    // ones depends on whose deadlock_timeout ran out first); the rest committed.
    const settled = await Promise.allSettled([t1, t2, t3])
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [String(r.reason?.message)] : []))
    expect(failures.length).toBeGreaterThan(0)
    expect(failures.length).toBeLessThan(3)
    for (const failure of failures) expect(failure).toMatch(/deadlock detected/)
    const rows = await database.db.selectFrom('audit_logs').select('seq').execute()
    expect(await services.audit.verify()).toEqual({ ok: true, checked: rows.length })
  }, 30_000)
})
