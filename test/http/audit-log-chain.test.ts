import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createUnitOfWork } from '../../src/db/unit-of-work.js'
import { fixedClock } from '../../src/lib/clock.js'
import { createRepositories } from '../../src/repositories/repositories.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'chain-admin@example.com', password: 'admin password 1234' }
const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }

type Entry = { id: string; at: string; actor_id: string | null; action: string; target_id: string | null }

async function countRows(t: TestApp): Promise<number> {
  const row = await t.kitsune.database.db
    .selectFrom('audit_logs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The hash chain, its verification over HTTP and in the service, listing and retention. */
describe.each(testTargets())('the audit log chain on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }

  const page = (query: Record<string, string>) =>
    t.inject({ method: 'GET', url: '/api/v1/admin/audit-logs', query, headers: admin })
  /** Every entry matching `query`, following next_cursor. */
  const walk = async (query: Record<string, string>, limit: number) => {
    const all: Entry[] = []
    let cursor: string | null = null
    do {
      const response = await page({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) })
      expect(response.statusCode).toBe(200)
      all.push(...response.json().items)
      cursor = response.json().next_cursor
    } while (cursor)
    return all
  }
  const verifyOverHttp = async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/admin/audit-logs/verify', headers: admin })
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body).toEqual(await t.kitsune.services.audit.verify())
    return body
  }
  const rowsInOrder = () =>
    t.kitsune.database.db.selectFrom('audit_logs').selectAll().orderBy('seq', 'asc').execute()

  beforeAll(async () => {
    t = await buildTestApp({ target, env: ADMIN_ENV })
    admin = bearer((await login(t, ADMIN)).access_token)
    for (let n = 0; n < 4; n++) await registerAndLogin(t)
  })
  afterAll(async () => t?.close())

  it('verifies an untouched chain, checking every row, the same over HTTP as in the service', async () => {
    expect(await verifyOverHttp()).toEqual({ ok: true, checked: await countRows(t) })
  })

  it('stays valid under 20 concurrent failed logins, each recorded', async () => {
    // Distinct accounts, so the per-account login back-off lets every attempt through.
    const emails = Array.from({ length: 20 }, () => uniqueEmail('guess'))
    const responses = await Promise.all(
      emails.map((email) =>
        t.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email, password: 'wrong password' },
        }),
      ),
    )
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(401))
    const failed = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select(sql<string>`metadata->>'email'`.as('email'))
      .where('action', '=', 'user.login_failed')
      .execute()
    expect(failed.map((row) => row.email).sort()).toEqual([...emails].sort())
    const rows = await rowsInOrder()
    for (let i = 1; i < rows.length; i++) expect(rows[i]?.prev_hash).toBe(rows[i - 1]?.hash)
    expect(await verifyOverHttp()).toEqual({ ok: true, checked: rows.length })
  })

  it('chains the next entry correctly after a transaction that appended rolled back', async () => {
    const before = await countRows(t)
    const { database, services } = t.kitsune
    const uow = createUnitOfWork(database.db, createRepositories, (error) => {
      throw error
    })
    // This process now believes the rolled-back entry is the head; the database knows better.
    await expect(
      uow.run(async (repos, tx) => {
        await services.audit.record(repos, tx, undefined, { action: 'user.updated', actorId: null })
        throw new Error('abandon the change')
      }),
    ).rejects.toThrow('abandon the change')
    expect(await countRows(t)).toBe(before)
    await registerUser(t)
    const rows = await rowsInOrder()
    expect(rows).toHaveLength(before + 1)
    expect(rows.at(-1)?.prev_hash).toBe(rows.at(-2)?.hash)
    expect(await verifyOverHttp()).toEqual({ ok: true, checked: rows.length })
  })

  it('keeps audit_head on the newest entry', async () => {
    await registerUser(t)
    const newest = (await rowsInOrder()).at(-1)
    const head = await t.kitsune.database.db.selectFrom('audit_head').selectAll().executeTakeFirstOrThrow()
    expect(head).toEqual({ id: 1, seq: newest?.seq, hash: newest?.hash })
  })

  describe('GET /api/v1/admin/audit-logs', () => {
    it('pages newest first with a cursor, matching the chain order exactly', async () => {
      const inChain = (await rowsInOrder()).map((row) => row.id).reverse()
      const paged = await walk({}, 7)
      expect(paged.map((entry) => entry.id)).toEqual(inChain)
    })

    it('filters by actor_id', async () => {
      const { user } = await registerAndLogin(t)
      const found = await walk({ actor_id: user.id }, 50)
      expect(found.map((entry) => entry.action)).toEqual(['user.login', 'user.registered'])
    })

    it('filters by action and target_id, across pages', async () => {
      const logins = await walk({ action: 'user.login' }, 2)
      expect(logins.length).toBeGreaterThan(4)
      expect(new Set(logins.map((entry) => entry.id)).size).toBe(logins.length)
      expect(logins.every((entry) => entry.action === 'user.login')).toBe(true)
      const first = logins[0] as Entry
      expect(await walk({ target_id: first.target_id as string }, 50)).toEqual([first])
    })

    it('filters by from (inclusive) and to (exclusive)', async () => {
      const all = await walk({}, 100)
      const from = (all[Math.floor(all.length * 0.75)] as Entry).at
      const to = (all[Math.floor(all.length * 0.25)] as Entry).at
      const expected = all.filter((entry) => entry.at >= from && entry.at < to).map((entry) => entry.id)
      expect(expected.length).toBeGreaterThan(0)
      expect((await walk({ from, to }, 100)).map((entry) => entry.id)).toEqual(expected)
    })

    it.each([
      ['a malformed cursor', { cursor: 'not-a-cursor' }],
      ['an actor_id that is not a UUID', { actor_id: '42' }],
      ['an unknown action', { action: 'user.teleported' }],
      ['a from that is not a date-time', { from: 'yesterday' }],
      ['limit=101', { limit: '101' }],
    ])('answers 422 for %s', async (_name, query) => {
      expect((await page(query)).statusCode).toBe(422)
    })
  })

  describe('tampering', () => {
    it('reports first_bad_id for a row whose metadata was edited in SQL, and ok again once restored', async () => {
      const rows = await rowsInOrder()
      const victim = rows[Math.floor(rows.length / 2)] as (typeof rows)[number]
      const db = t.kitsune.database.db
      const setMetadata = (value: unknown) =>
        sql`UPDATE audit_logs SET metadata = ${JSON.stringify(value)}::jsonb WHERE id = ${victim.id}`.execute(
          db,
        )
      await setMetadata({ ...victim.metadata, tampered: true })
      try {
        expect(await verifyOverHttp()).toMatchObject({ ok: false, first_bad_id: victim.id })
      } finally {
        await setMetadata(victim.metadata)
      }
      expect((await verifyOverHttp()).ok).toBe(true)
    })

    it('reports the row after a deleted middle row', async () => {
      const rows = await rowsInOrder()
      const middle = Math.floor(rows.length / 2)
      const gone = rows[middle] as (typeof rows)[number]
      const db = t.kitsune.database.db
      await db.deleteFrom('audit_logs').where('id', '=', gone.id).execute()
      try {
        expect(await verifyOverHttp()).toMatchObject({ ok: false, first_bad_id: rows[middle + 1]?.id })
      } finally {
        await sql`
          INSERT INTO audit_logs (seq, id, at, actor_id, action, target_type, target_id, ip, user_agent,
                                  request_id, metadata, prev_hash, hash)
          OVERRIDING SYSTEM VALUE
          VALUES (${gone.seq}, ${gone.id}, ${gone.at}, ${gone.actor_id}, ${gone.action}, ${gone.target_type},
                  ${gone.target_id}, ${gone.ip}, ${gone.user_agent}, ${gone.request_id},
                  ${JSON.stringify(gone.metadata)}::jsonb, ${gone.prev_hash}, ${gone.hash})`.execute(db)
      }
      expect((await verifyOverHttp()).ok).toBe(true)
    })

    it('reports the first entry written after the newest row was deleted', async () => {
      // A deleted tail alone leaves a valid prefix; the head row still names the deleted entry, so
      // the next append chains from it and the gap shows.
      await registerUser(t)
      const db = t.kitsune.database.db
      const tail = (await rowsInOrder()).at(-1)
      await db
        .deleteFrom('audit_logs')
        .where('id', '=', tail?.id ?? '')
        .execute()
      await registerUser(t)
      const next = (await rowsInOrder()).at(-1)
      expect(await verifyOverHttp()).toMatchObject({ ok: false, first_bad_id: next?.id })
      // Leave a chain that verifies for the tests after this one: drop the broken tail again.
      await db
        .deleteFrom('audit_logs')
        .where('id', '=', next?.id ?? '')
        .execute()
      const last = (await rowsInOrder()).at(-1)
      await db
        .updateTable('audit_head')
        .set({ seq: last?.seq ?? null, hash: last?.hash ?? '' })
        .execute()
      expect((await verifyOverHttp()).ok).toBe(true)
    })
  })
})

describe.each(testTargets())('audit retention on $name', (target) => {
  const clock = fixedClock('2030-01-01T00:00:00Z')
  let t: TestApp

  beforeAll(async () => {
    t = await buildTestApp({ target, env: ADMIN_ENV, clock })
  })
  afterAll(async () => t?.close())

  it('prunes entries older than the window from the oldest end and the chain stays verifiable', async () => {
    await registerAndLogin(t)
    const old = await countRows(t)
    clock.advance(40 * 86_400)
    await registerAndLogin(t)
    const recent = (await countRows(t)) - old
    expect(await t.kitsune.services.audit.prune(30)).toEqual({ deleted: old })
    expect(await countRows(t)).toBe(recent)
    const oldest = await t.kitsune.database.db
      .selectFrom('audit_logs')
      .select('at')
      .orderBy('seq')
      .executeTakeFirst()
    expect(oldest?.at.toISOString()).toBe('2030-02-10T00:00:00.000Z')
    expect(await t.kitsune.services.audit.verify()).toEqual({ ok: true, checked: recent })
    expect(await t.kitsune.services.audit.prune(30)).toEqual({ deleted: 0 })
  })

  it('chains new entries onto the retention anchor, even after the log was pruned empty', async () => {
    clock.advance(100 * 86_400)
    const remaining = await countRows(t)
    expect(await t.kitsune.services.audit.prune(30)).toEqual({ deleted: remaining })
    expect(await t.kitsune.services.audit.verify()).toEqual({ ok: true, checked: 0 })
    await registerUser(t)
    const admin = bearer((await login(t, ADMIN)).access_token)
    const response = await t.inject({ method: 'GET', url: '/api/v1/admin/audit-logs/verify', headers: admin })
    expect(response.json()).toEqual({ ok: true, checked: 2 })
    expect(await t.kitsune.services.audit.verify()).toEqual(response.json())
  })
})
