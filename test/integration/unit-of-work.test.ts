import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { migrateToLatest } from '../../src/db/migrator.js'
import { createUnitOfWork, type UnitOfWork } from '../../src/db/unit-of-work.js'
import { uuidv7 } from '../../src/lib/uuid.js'
import { createRepositories, type Repositories } from '../../src/repositories/repositories.js'
import { TEST_SECRET_KEY } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const silent = { info() {}, error() {} }
const NOW = new Date('2030-01-01T00:00:00Z')

function newUser(id = uuidv7()) {
  return {
    id,
    email: uniqueEmail('uow'),
    full_name: null,
    password_hash: '$argon2id$not-a-real-hash',
    created_at: NOW,
    updated_at: NOW,
    password_changed_at: NOW,
  }
}

function newSession(userId: string, id = uuidv7()) {
  return {
    id,
    user_id: userId,
    created_at: NOW,
    last_used_at: NOW,
    expires_at: new Date('2030-02-01T00:00:00Z'),
    ip: '192.0.2.1',
    user_agent: 'vitest',
  }
}

describe.each(testTargets())('unit of work on $name', (target) => {
  let handle: DatabaseHandle
  let drop: () => Promise<void>
  let uow: UnitOfWork<Repositories>
  const afterCommitErrors: unknown[] = []

  beforeAll(async () => {
    const provisioned = await target.provision()
    drop = provisioned.drop
    const config = loadConfig({
      NODE_ENV: 'test',
      SECRET_KEY: TEST_SECRET_KEY,
      KITSUNE_DATA_DIR: '/nonexistent-kitsune-test-data',
      ...provisioned.env,
    })
    handle = await createDatabase(config.database, silent)
    await migrateToLatest(handle.db)
    uow = createUnitOfWork(handle.db, createRepositories, (error) => afterCommitErrors.push(error))
  })
  afterAll(async () => {
    await handle?.close()
    await drop?.()
  })

  const userExists = async (id: string) => (await uow.read.users.findById(id)) !== undefined
  const sessionExists = async (id: string) => (await uow.read.sessions.findById(id)) !== undefined

  it('commits every write of a successful run together', async () => {
    const user = newUser()
    const session = newSession(user.id)
    const result = await uow.run(async (repos) => {
      await repos.users.insert(user)
      await repos.users.addRole(user.id, 'user')
      await repos.sessions.insert(session)
      return 'done'
    })
    expect(result).toBe('done')
    expect((await uow.read.users.getById(user.id)).roles).toEqual(['user'])
    expect(await sessionExists(session.id)).toBe(true)
  })

  it('leaves nothing behind when the use case throws after its first write', async () => {
    const user = newUser()
    const failure = new Error('second step failed')
    await expect(
      uow.run(async (repos) => {
        await repos.users.insert(user)
        expect(await repos.users.findById(user.id)).toBeDefined()
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(await userExists(user.id)).toBe(false)
    expect(await uow.read.users.findCredentialsByEmail(user.email)).toBeUndefined()
  })

  it('rolls back the user when inserting its session fails in the database', async () => {
    const user = newUser()
    const first = newSession(user.id)
    await uow.run(async (repos) => {
      await repos.users.insert(user)
      await repos.sessions.insert(first)
    })
    const second = newUser()
    // The same session id again: a primary-key violation on the second write.
    await expect(
      uow.run(async (repos) => {
        await repos.users.insert(second)
        await repos.sessions.insert(newSession(second.id, first.id))
      }),
    ).rejects.toMatchObject({ code: '23505' })
    expect(await userExists(second.id)).toBe(false)
    expect((await uow.read.sessions.findById(first.id))?.user_id).toBe(user.id)
  })

  it('rolls back the user when adding an unknown role fails', async () => {
    const user = newUser()
    await expect(
      uow.run(async (repos) => {
        await repos.users.insert(user)
        await repos.users.addRole(user.id, 'no-such-role')
      }),
    ).rejects.toMatchObject({ code: '23503' })
    expect(await userExists(user.id)).toBe(false)
  })

  it('runs afterCommit tasks after the commit, in order, seeing the committed rows', async () => {
    const user = newUser()
    const events: string[] = []
    await uow.run(async (repos, tx) => {
      tx.afterCommit(async () => {
        // Read over the pool, outside the transaction: only committed rows are visible here.
        events.push(`first sees user: ${await userExists(user.id)}`)
      })
      tx.afterCommit(() => {
        events.push('second')
      })
      await repos.users.insert(user)
      events.push('work done')
    })
    expect(events).toEqual(['work done', 'first sees user: true', 'second'])
  })

  it('never runs afterCommit tasks when the run rolls back', async () => {
    const user = newUser()
    let ran = 0
    await expect(
      uow.run(async (repos, tx) => {
        tx.afterCommit(() => {
          ran++
        })
        await repos.users.insert(user)
        throw new Error('rolled back')
      }),
    ).rejects.toThrow('rolled back')
    expect(ran).toBe(0)
    expect(await userExists(user.id)).toBe(false)
  })

  it('reports a failing afterCommit task to the sink without undoing the commit or later tasks', async () => {
    const user = newUser()
    const taskError = new Error('mail server down')
    let laterRan = false
    afterCommitErrors.length = 0
    const result = await uow.run(async (repos, tx) => {
      tx.afterCommit(() => {
        throw taskError
      })
      tx.afterCommit(() => {
        laterRan = true
      })
      await repos.users.insert(user)
      return user.id
    })
    expect(result).toBe(user.id)
    expect(afterCommitErrors).toEqual([taskError])
    expect(laterRan).toBe(true)
    expect(await userExists(user.id)).toBe(true)
  })
})
