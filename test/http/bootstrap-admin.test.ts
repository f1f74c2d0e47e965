import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser } from '../helpers/factories.js'
import {
  type ProvisionedTarget,
  postgresTarget,
  TEST_DATABASE_URL,
  type TestTarget,
  testTargets,
} from '../helpers/test-targets.js'

const ADMIN = { email: 'boot-admin@example.com', password: 'bootstrap password 1234' }
const ADMIN_ENV = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }

/** Opening a PGlite directory is slow on a busy machine; two instances open one in turn. */
const TWO_STARTS_MS = 120_000

/** A database two instances can share: a PGlite directory (one at a time) or a PostgreSQL database. */
async function sharedDatabase(target: TestTarget): Promise<ProvisionedTarget> {
  if (target.name === 'postgres') return target.provision()
  const dir = await mkdtemp(join(tmpdir(), 'kitsune-bootstrap-'))
  return { env: { DATABASE_URL: `pglite://${dir}` }, drop: () => rm(dir, { recursive: true, force: true }) }
}

async function adminFacts(t: TestApp, email: string) {
  const db = t.kitsune.database.db
  const users = await db.selectFrom('users').select('id').where('email', '=', email).execute()
  const admins = await db
    .selectFrom('user_roles')
    .select('user_id')
    .where('role_name', '=', 'admin')
    .execute()
  const created = await db
    .selectFrom('audit_logs')
    .select('actor_id')
    .where('action', '=', 'user.created')
    .where('target_id', 'in', users.length > 0 ? users.map((u) => u.id) : ['none'])
    .execute()
  return { users: users.length, admins: admins.map((row) => row.user_id), created }
}

describe.each(testTargets())('bootstrap administrator on $name', (target) => {
  const open: TestApp[] = []
  const databases: ProvisionedTarget[] = []
  const start = async (provisioned: ProvisionedTarget, env: Record<string, string> = ADMIN_ENV) => {
    const t = await buildTestApp({ target, env, provisioned })
    open.push(t)
    return t
  }
  /** PGlite opens a directory from one instance at a time; PostgreSQL instances run side by side. */
  const stopIfPglite = async (t: TestApp) => {
    if (target.name !== 'pglite') return
    open.splice(open.indexOf(t), 1)
    await t.close()
  }
  const shared = async () => {
    const provisioned = await sharedDatabase(target)
    databases.push(provisioned)
    return provisioned
  }
  const fresh = async () => {
    const provisioned = await target.provision()
    databases.push(provisioned)
    return provisioned
  }

  afterEach(async () => {
    for (const t of open.splice(0).reverse()) await t.close()
    for (const db of databases.splice(0)) await db.drop()
  })

  it('creates the ADMIN_EMAIL account at start, verified, with the admin and user roles', async () => {
    const t = await start(await fresh())
    const tokens = await login(t, { email: ADMIN.email.toUpperCase(), password: ADMIN.password })
    const me = await t.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(tokens.access_token),
    })
    expect(me.json()).toMatchObject({ email: ADMIN.email, roles: ['admin', 'user'], email_verified: true })
    const users = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/users',
      headers: bearer(tokens.access_token),
    })
    expect(users.statusCode).toBe(200)
    const facts = await adminFacts(t, ADMIN.email)
    expect(facts).toEqual({ users: 1, admins: [me.json().id], created: [{ actor_id: null }] })
  })

  it('creates no admin without ADMIN_EMAIL', async () => {
    const t = await start(await fresh(), {})
    expect((await adminFacts(t, ADMIN.email)).admins).toEqual([])
  })

  it(
    'is idempotent when a second instance starts on the same database',
    async () => {
      const db = await shared()
      const first = await start(db)
      const before = await adminFacts(first, ADMIN.email)
      await stopIfPglite(first)
      const second = await start(db)
      expect(await adminFacts(second, ADMIN.email)).toEqual(before)
      const tokens = await login(second, ADMIN)
      const me = await second.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.json().roles).toEqual(['admin', 'user'])
      expect((await second.kitsune.services.audit.verify()).ok).toBe(true)
    },
    TWO_STARTS_MS,
  )

  it(
    'promotes an existing account to admin and keeps its password',
    async () => {
      const db = await shared()
      const first = await start(db, {})
      const user = await registerUser(first)
      await stopIfPglite(first)
      const second = await start(db, {
        ADMIN_EMAIL: ` ${user.email.toUpperCase()} `,
        ADMIN_PASSWORD: 'ignored password',
      })
      const facts = await adminFacts(second, user.email)
      expect(facts.admins).toEqual([user.id])
      expect(facts.created).toEqual([])
      const tokens = await login(second, user)
      const me = await second.inject({
        method: 'GET',
        url: '/api/v1/users/me',
        headers: bearer(tokens.access_token),
      })
      expect(me.json().roles).toEqual(['admin', 'user'])
      const withAdminPassword = await second.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: 'ignored password' },
      })
      expect(withAdminPassword.statusCode).toBe(401)
    },
    TWO_STARTS_MS,
  )
})

describe.skipIf(!TEST_DATABASE_URL)(
  'bootstrap administrator, instances starting together (PostgreSQL)',
  () => {
    let provisioned: ProvisionedTarget | undefined
    const open: TestApp[] = []
    afterEach(async () => {
      for (const t of open.splice(0)) await t.close()
      await provisioned?.drop()
    })

    it('ends with exactly one admin account when two instances start at once', async () => {
      provisioned = await postgresTarget.provision()
      const db = provisioned
      const started = await Promise.allSettled(
        [1, 2].map(() => buildTestApp({ target: postgresTarget, env: ADMIN_ENV, provisioned: db })),
      )
      for (const result of started) if (result.status === 'fulfilled') open.push(result.value)
      expect(started.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled'])
      const [a, b] = open as [TestApp, TestApp]
      const facts = await adminFacts(a, ADMIN.email)
      expect(facts.users).toBe(1)
      expect(facts.admins).toHaveLength(1)
      expect(facts.created).toEqual([{ actor_id: null }])
      for (const t of [a, b]) expect((await login(t, ADMIN)).access_token).toBeTruthy()
      expect(await a.kitsune.services.audit.verify()).toMatchObject({ ok: true })
    })
  },
)
