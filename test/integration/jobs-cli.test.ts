import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { uuidv7 } from '../../src/lib/uuid.js'
import { cliEnv, cliTargets, killAllCli, runCli } from '../helpers/cli-process.js'

afterAll(() => killAllCli())

describe('kitsune jobs usage', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-jobs-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('lists the jobs commands in the usage and documents their options', async () => {
    const usage = await runCli(['--help'], cliEnv(dir))
    expect(usage.code).toBe(0)
    expect(usage.stdout).toContain('kitsune jobs list ')
    expect(usage.stdout).toContain('kitsune jobs retry ')
    const list = await runCli(['jobs', 'list', '--help'], cliEnv(dir))
    expect(list.code).toBe(0)
    for (const option of ['--state', '--kind', '--limit']) expect(list.stdout).toContain(option)
    const retry = await runCli(['jobs', 'retry', '--help'], cliEnv(dir))
    expect(retry.code).toBe(0)
    expect(retry.stdout).toContain('Usage: kitsune jobs retry ID')
  })
})

describe.each(cliTargets)('kitsune jobs on $name', (target) => {
  let dir: string
  let env: Record<string, string>
  let drop: () => Promise<void>
  const ids = { dead: uuidv7(), done: uuidv7(), queued: uuidv7(), other: uuidv7() }

  /** Opens the database only between CLI runs: a PGlite directory belongs to one process at a time. */
  async function withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
    const database = await createDatabase(loadConfig(env).database, { info() {}, error() {} })
    try {
      return await work(database)
    } finally {
      await database.close()
    }
  }
  const row = (id: string) =>
    withDatabase(({ db }) => db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow())

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-jobs-'))
    const database = await target.provision(dir)
    drop = database.drop
    env = cliEnv(dir, { DATABASE_URL: database.url })
    const migrated = await runCli(['migrate'], env)
    expect(migrated.code, migrated.stderr).toBe(0)
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000)
    const job = (
      id: string,
      kind: string,
      state: 'queued' | 'done' | 'dead',
      minutesAgo: number,
      extra: object = {},
    ) => ({
      id,
      kind,
      state,
      // An e-mail job no server could open: a command that ran it would record a failed attempt.
      payload: JSON.stringify({ sealed: 'not a sealed message' }),
      run_at: at(minutesAgo),
      attempts: 0,
      created_at: at(minutesAgo),
      dead_after: at(minutesAgo - 24 * 60),
      locked_by: null,
      last_error: null,
      ...extra,
    })
    await withDatabase(({ db }) =>
      db
        .insertInto('jobs')
        .values([
          job(ids.dead, 'email.send', 'dead', 40, {
            attempts: 7,
            last_error: 'connect ECONNREFUSED 127.0.0.1:25\nafter 7 attempts',
            finished_at: at(5),
          }),
          job(ids.done, 'email.send', 'done', 30, { attempts: 1, finished_at: at(29) }),
          job(ids.queued, 'email.send', 'queued', 20, { run_at: at(-60) }),
          job(ids.other, 'password_reset.request', 'queued', 10, { run_at: at(-60) }),
        ])
        .execute(),
    )
  })
  afterAll(async () => {
    killAllCli()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('list prints a table of every job, newest first: id, kind, state, attempts, created, last error', async () => {
    const result = await runCli(['jobs', 'list'], env)
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+KIND\s+STATE\s+ATTEMPTS\s+CREATED\s+LAST ERROR$/)
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([
      ids.other,
      ids.queued,
      ids.done,
      ids.dead,
    ])
    const dead = lines.find((line) => line.startsWith(ids.dead)) ?? ''
    expect(dead.split(/\s+/).slice(1, 4)).toEqual(['email.send', 'dead', '7'])
    expect(dead).toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/)
    // The last error on one line.
    expect(dead).toContain('connect ECONNREFUSED 127.0.0.1:25 after 7 attempts')
    expect(result.stdout).not.toContain('not a sealed message')
  })

  it('list filters by --state, --kind and --limit', async () => {
    const dead = await runCli(['jobs', 'list', '--state', 'dead'], env)
    expect(dead.code).toBe(0)
    expect(dead.stdout).toContain(ids.dead)
    for (const id of [ids.done, ids.queued, ids.other]) expect(dead.stdout).not.toContain(id)

    const queuedMail = await runCli(['jobs', 'list', '--state', 'queued', '--kind', 'email.send'], env)
    expect(queuedMail.code).toBe(0)
    expect(queuedMail.stdout).toContain(ids.queued)
    for (const id of [ids.dead, ids.done, ids.other]) expect(queuedMail.stdout).not.toContain(id)

    const one = await runCli(['jobs', 'list', '--limit', '1'], env)
    expect(one.code).toBe(0)
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(2)
    expect(one.stdout).toContain(ids.other)

    const none = await runCli(['jobs', 'list', '--kind', 'no.such.kind'], env)
    expect(none.code).toBe(0)
    expect(none.stdout).toBe('no jobs\n')
  }, 120_000)

  it('list refuses a bad --state or --limit with exit 2', async () => {
    for (const args of [
      ['--state', 'running'],
      ['--limit', '0'],
      ['--limit', 'many'],
      ['--limit', '501'],
    ]) {
      const result = await runCli(['jobs', 'list', ...args], env)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toContain('kitsune jobs list:')
    }
  })

  it('retry puts a dead job back in the queue, and does not run it itself', async () => {
    const result = await runCli(['jobs', 'retry', ids.dead], env)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(ids.dead)
    const retried = await row(ids.dead)
    expect(retried).toMatchObject({ state: 'queued', attempts: 7, locked_by: null, finished_at: null })
    expect(new Date(retried.run_at).getTime()).toBeLessThanOrEqual(Date.now())
    // No command ran a job: the due jobs are untouched.
    for (const id of [ids.queued, ids.other])
      expect(await row(id)).toMatchObject({ state: 'queued', attempts: 0, locked_by: null })
  })

  it('retry exits 1 for a job that is not dead, or not found, and 2 without an id', async () => {
    for (const id of [ids.dead, ids.done, ids.queued, randomUUID(), 'not-a-job-id']) {
      const result = await runCli(['jobs', 'retry', id], env)
      expect(result.code, id).toBe(1)
      expect(result.stderr).toContain(`kitsune jobs retry: no dead job ${id}`)
    }
    expect((await row(ids.done)).state).toBe('done')
    const missing = await runCli(['jobs', 'retry'], env)
    expect(missing.code).toBe(2)
  }, 180_000)
})
