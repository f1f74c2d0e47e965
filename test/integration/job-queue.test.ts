import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/schema.js'
import { createUnitOfWork } from '../../src/db/unit-of-work.js'
import {
  type ClaimedJob,
  createJobQueue,
  type JobPolicy,
  type JobQueue,
  PermanentJobError,
  retryDelaySeconds,
} from '../../src/jobs/job-queue.js'
import { fixedClock } from '../../src/lib/clock.js'
import { createRepositories } from '../../src/repositories/repositories.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { type ProvisionedTarget, testTargets } from '../helpers/test-targets.js'

const silent = { info() {}, warn() {}, error() {} }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let kindSequence = 0
/** A kind no other test (nor Kitsune's own runner) has a handler for. */
const newKind = (name: string) => `test.${name}.${++kindSequence}.${Date.now().toString(36)}`

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

const jobRow = (db: Kysely<Database>, id: string) =>
  db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
const rowsOfKind = (db: Kysely<Database>, kind: string) =>
  db.selectFrom('jobs').selectAll().where('kind', '=', kind).execute()

/** Prometheus text: the value of the sample `name{labels}` (labels in any order), 0 if absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/)
    if (!match || match[1] !== name) continue
    const found: Record<string, string> = {}
    for (const label of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      found[label[1] as string] = label[2] as string
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3])
  }
  return 0
}

describe('retryDelaySeconds', () => {
  const policy: JobPolicy = {
    firstDelaySeconds: 10,
    maxDelaySeconds: 300,
    deadAfterSeconds: 86_400,
    leaseSeconds: 60,
  }

  it('draws each delay between half and all of a ceiling that doubles from firstDelaySeconds', () => {
    for (const [attempts, ceiling] of [
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 80],
      [5, 160],
    ] as const) {
      expect(retryDelaySeconds(policy, attempts, () => 0)).toBe(ceiling / 2)
      expect(retryDelaySeconds(policy, attempts, () => 0.999_999)).toBeCloseTo(ceiling, 3)
      for (let i = 0; i < 200; i++) {
        const delay = retryDelaySeconds(policy, attempts)
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
        expect(delay).toBeLessThanOrEqual(ceiling)
      }
    }
  })

  it('never exceeds maxDelaySeconds, even after very many attempts', () => {
    for (const attempts of [6, 10, 50, 2000]) {
      expect(retryDelaySeconds(policy, attempts, () => 0)).toBe(150)
      expect(retryDelaySeconds(policy, attempts, () => 0.999_999)).toBeLessThanOrEqual(300)
    }
  })

  it('treats attempts 0 (or less) as the first', () => {
    expect(retryDelaySeconds(policy, 0, () => 0)).toBe(5)
    expect(retryDelaySeconds(policy, -3, () => 1)).toBe(10)
  })
})

describe.each(testTargets())('the durable job queue on $name', (target) => {
  const clock = fixedClock('2031-03-01T00:00:00Z')
  let t: TestApp & { provisioned: ProvisionedTarget }
  let db: Kysely<Database>
  const queues: JobQueue[] = []

  /** A runner of this test over the app's database (another "instance" on the same handle). */
  const newQueue = (options: { concurrency?: number } = {}) => {
    const queue = createJobQueue({ db, clock, logger: silent, pollIntervalMs: 20, ...options })
    queues.push(queue)
    return queue
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, clock })
    db = t.kitsune.database.db
  })
  afterAll(async () => {
    for (const queue of queues) await queue.stop()
    await t?.close()
  })

  it('runs a job written by a unit of work once it commits, and never one whose unit of work threw', async () => {
    const queue = newQueue()
    const rolledBack = newKind('rolled-back')
    const committed = newKind('committed')
    const calls: ClaimedJob[] = []
    queue.register(rolledBack, async (job) => void calls.push(job))
    queue.register(committed, async (job) => void calls.push(job))
    queue.start()
    const uow = createUnitOfWork(db, createRepositories, () => {}, queue)

    await expect(
      uow.run(async (_repos, tx) => {
        await tx.enqueue({ kind: rolledBack, payload: { n: 1 } })
        throw new Error('the use case failed after writing its job')
      }),
    ).rejects.toThrow('the use case failed')
    await uow.run(async (_repos, tx) => tx.enqueue({ kind: committed, payload: { n: 2 } }))
    await queue.idle()
    await sleep(100)

    expect(await rowsOfKind(db, rolledBack)).toEqual([])
    const rows = await rowsOfKind(db, committed)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ state: 'done', attempts: 1 })
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ kind: committed, payload: { n: 2 }, attempts: 1, id: rows[0]?.id })
  })

  it('hands each of many jobs to exactly one of two runners on one database', async () => {
    const kind = newKind('many')
    const a = newQueue({ concurrency: 4 })
    const b = newQueue({ concurrency: 4 })
    const calls = new Map<string, string[]>()
    for (const [name, queue] of [
      ['a', a],
      ['b', b],
    ] as const) {
      queue.register(kind, async (job) => {
        calls.set(job.id, [...(calls.get(job.id) ?? []), name])
        await sleep(2 + Math.random() * 8)
      })
    }
    const ids: string[] = []
    for (let i = 0; i < 80; i++) ids.push(await a.insert(db, { kind, payload: { i } }))
    a.start()
    b.start()
    await until(
      async () => (await rowsOfKind(db, kind)).every((row) => row.state === 'done'),
      'every job done',
      30_000,
    )
    await Promise.all([a.idle(), b.idle()])
    await sleep(100)

    expect([...calls.keys()].sort()).toEqual([...ids].sort())
    const twice = [...calls.entries()].filter(([, by]) => by.length !== 1)
    expect(twice).toEqual([])
    for (const row of await rowsOfKind(db, kind)) expect(row.attempts).toBe(1)
  })

  it('retries a failing handler with growing delays (back-off within the jitter bounds), then succeeds', async () => {
    const kind = newKind('flaky')
    const policy = { firstDelaySeconds: 10, maxDelaySeconds: 600, deadAfterSeconds: 86_400, leaseSeconds: 60 }
    const queue = newQueue()
    let calls = 0
    queue.register(
      kind,
      async () => {
        calls++
        if (calls <= 2) throw new Error(`failure number ${calls}`)
      },
      policy,
    )
    const id = await queue.insert(db, { kind, payload: {} })
    queue.start()

    const settledAfter = (attempts: number) =>
      until(async () => {
        const row = await jobRow(db, id)
        return row.attempts === attempts && row.locked_until === null && row
      }, `attempt ${attempts} recorded`)

    let delays: number[] = []
    for (const attempt of [1, 2]) {
      const row = await settledAfter(attempt)
      expect(row.state).toBe('queued')
      expect(row.last_error).toBe(`failure number ${attempt}`)
      const delay = (new Date(row.run_at).getTime() - clock.now().getTime()) / 1000
      const ceiling = policy.firstDelaySeconds * 2 ** (attempt - 1)
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
      expect(delay).toBeLessThanOrEqual(ceiling)
      delays = [...delays, delay]
      // Not before its run_at: a second short of it, nothing happens.
      clock.advance(delay - 1)
      queue.wake()
      await sleep(150)
      expect(calls).toBe(attempt)
      clock.advance(1)
      queue.wake()
    }
    const done = await until(async () => {
      const row = await jobRow(db, id)
      return row.state === 'done' && row
    }, 'the third attempt to succeed')
    expect(done).toMatchObject({ attempts: 3, last_error: null, locked_until: null })
    expect(calls).toBe(3)
    // The window of the second delay lies wholly after the first one's: [10, 20] after [5, 10].
    expect(delays[1]).toBeGreaterThanOrEqual(delays[0] as number)
  })

  it('dead-letters at once a job whose handler throws PermanentJobError', async () => {
    const kind = newKind('permanent')
    const queue = newQueue()
    let calls = 0
    queue.register(kind, async () => {
      calls++
      throw new PermanentJobError('the address does not exist')
    })
    const id = await queue.insert(db, { kind, payload: {} })
    queue.start()
    const row = await until(async () => {
      const r = await jobRow(db, id)
      return r.state === 'dead' && r
    }, 'the job to be dead')
    expect(row).toMatchObject({ attempts: 1, last_error: 'the address does not exist', locked_until: null })
    expect(row.finished_at).not.toBeNull()
    await sleep(150)
    expect(calls).toBe(1)
    expect((await queue.list({ state: 'dead', kind })).map((job) => job.id)).toEqual([id])
  })

  it('gives a dead job retried by hand a fresh deadAfterSeconds window (it is not dead again at its next failure)', async () => {
    const kind = newKind('retried-by-hand')
    const policy = { firstDelaySeconds: 10, maxDelaySeconds: 20, deadAfterSeconds: 60, leaseSeconds: 30 }
    const queue = newQueue()
    let calls = 0
    queue.register(
      kind,
      async () => {
        calls++
        throw new Error(`still failing (${calls})`)
      },
      policy,
    )
    const id = await queue.insert(db, { kind, payload: {} })
    queue.start()
    // Failing until its 60 s are up: dead.
    for (let i = 0; i < 20; i++) {
      const row = await until(async () => {
        const r = await jobRow(db, id)
        return r.locked_until === null && r.attempts > 0 && r
      }, 'an attempt recorded')
      if (row.state === 'dead') break
      clock.advance((new Date(row.run_at).getTime() - clock.now().getTime()) / 1000)
      queue.wake()
      await until(async () => (await jobRow(db, id)).attempts > row.attempts, 'the next attempt')
    }
    const dead = await jobRow(db, id)
    expect(dead.state).toBe('dead')

    // An operator retries it much later; it fails once more: that is a retry, not death.
    clock.advance(3600)
    expect(await queue.retry(id)).toBe(true)
    await until(async () => (await jobRow(db, id)).attempts === dead.attempts + 1, 'the attempt after retry')
    const after = await until(async () => {
      const r = await jobRow(db, id)
      return r.locked_until === null && r
    }, 'the attempt after retry recorded')
    expect(after.dead_after.getTime()).toBeGreaterThan(clock.now().getTime())
    expect(after).toMatchObject({ state: 'queued', last_error: `still failing (${calls})` })
  })

  it("claims again a job whose lease ran out in a dead worker's hands, and not one whose lease still holds", async () => {
    const kind = newKind('lease')
    const queue = newQueue()
    const calls: ClaimedJob[] = []
    queue.register(kind, async (job) => void calls.push(job), { leaseSeconds: 60 })
    const expired = await queue.insert(db, { kind, payload: { which: 'expired' } })
    const held = await queue.insert(db, { kind, payload: { which: 'held' } })
    const now = clock.now().getTime()
    await db
      .updateTable('jobs')
      .set({ attempts: 1, locked_by: 'dead-host:4242:deadbeef', locked_until: new Date(now - 1000) })
      .where('id', '=', expired)
      .execute()
    await db
      .updateTable('jobs')
      .set({ attempts: 1, locked_by: 'live-host:4343:cafecafe', locked_until: new Date(now + 30_000) })
      .where('id', '=', held)
      .execute()
    queue.start()

    const done = await until(async () => {
      const row = await jobRow(db, expired)
      return row.state === 'done' && row
    }, 'the expired job to run again')
    expect(done).toMatchObject({ attempts: 2, locked_by: queue.workerId })
    await sleep(150)
    expect(calls.map((job) => job.id)).toEqual([expired])
    expect(calls[0]?.attempts).toBe(2)
    expect(await jobRow(db, held)).toMatchObject({ state: 'queued', locked_by: 'live-host:4343:cafecafe' })

    // Once the live worker's lease runs out too, it is taken over.
    clock.advance(31)
    queue.wake()
    await until(async () => (await jobRow(db, held)).state === 'done', 'the held job after its lease')
    expect(calls.map((job) => job.id)).toEqual([expired, held])
  })

  it('stop() waits for the running handler (drain) and claims nothing afterwards', async () => {
    const kind = newKind('drain')
    const queue = newQueue()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const started: string[] = []
    const finished: string[] = []
    queue.register(kind, async (job) => {
      started.push(job.id)
      await gate
      finished.push(job.id)
    })
    const first = await queue.insert(db, { kind, payload: {} })
    queue.start()
    await until(async () => started.length === 1, 'the handler to start')

    let stopped = false
    const stopping = queue.stop().then(() => {
      stopped = true
    })
    const second = await queue.insert(db, { kind, payload: {} })
    queue.wake()
    await sleep(200)
    expect(stopped).toBe(false)
    expect(started).toEqual([first])

    release()
    await stopping
    expect(finished).toEqual([first])
    // The outcome was recorded before stop() resolved.
    expect(await jobRow(db, first)).toMatchObject({ state: 'done', locked_until: null })

    queue.wake()
    await sleep(300)
    expect(started).toEqual([first])
    expect(await jobRow(db, second)).toMatchObject({ state: 'queued', attempts: 0, locked_by: null })
  })

  it('with JOBS_ENABLED=false an instance runs no jobs, while another instance on the database does', async () => {
    const off = await buildTestApp({ target, clock, env: { JOBS_ENABLED: 'false' } })
    try {
      const kind = newKind('disabled')
      const offCalls: string[] = []
      off.kitsune.jobs.register(kind, async (job) => void offCalls.push(job.id))
      const offDb = off.kitsune.database.db
      for (let i = 0; i < 3; i++)
        await off.kitsune.uow.run((_repos, tx) => tx.enqueue({ kind, payload: { i } }))
      const forgot = await off.inject({
        method: 'POST',
        url: '/api/v1/auth/password/forgot',
        payload: { email: 'nobody-disabled@example.com' },
      })
      expect(forgot.statusCode).toBe(202)
      off.kitsune.jobs.wake()
      await sleep(400)
      expect(offCalls).toEqual([])
      expect((await rowsOfKind(offDb, kind)).map((row) => [row.state, row.attempts])).toEqual([
        ['queued', 0],
        ['queued', 0],
        ['queued', 0],
      ])
      expect(await rowsOfKind(offDb, 'password_reset.request')).toMatchObject([
        { state: 'queued', attempts: 0 },
      ])

      // Another instance over the same database runs them.
      const other = createJobQueue({ db: offDb, clock, logger: silent, pollIntervalMs: 20 })
      const otherCalls: string[] = []
      other.register(kind, async (job) => void otherCalls.push(job.id))
      other.start()
      try {
        await until(
          async () => (await rowsOfKind(offDb, kind)).every((row) => row.state === 'done'),
          'the other instance to run the jobs',
        )
      } finally {
        await other.stop()
      }
      expect(otherCalls).toHaveLength(3)
      expect(offCalls).toEqual([])
    } finally {
      await off.close()
    }
  })

  it.skipIf(target.name !== 'postgres')(
    'two Kitsune instances on one PostgreSQL database handle each job exactly once',
    async () => {
      const b = await buildTestApp({ target, clock, provisioned: t.provisioned })
      try {
        const kind = newKind('instances')
        const calls = new Map<string, string[]>()
        for (const [name, app] of [
          ['a', t],
          ['b', b],
        ] as const) {
          app.kitsune.jobs.register(kind, async (job) => {
            calls.set(job.id, [...(calls.get(job.id) ?? []), name])
            await sleep(2 + Math.random() * 8)
          })
        }
        // Written from both instances' units of work, as requests would.
        await Promise.all(
          Array.from({ length: 60 }, (_, i) =>
            (i % 2 ? b : t).kitsune.uow.run((_repos, tx) => tx.enqueue({ kind, payload: { i } })),
          ),
        )
        await until(
          async () => {
            const rows = await rowsOfKind(db, kind)
            return rows.length === 60 && rows.every((row) => row.state === 'done')
          },
          'every job done',
          30_000,
        )
        await sleep(200)
        const ids = (await rowsOfKind(db, kind)).map((row) => row.id).sort()
        expect([...calls.keys()].sort()).toEqual(ids)
        expect([...calls.entries()].filter(([, by]) => by.length !== 1)).toEqual([])
      } finally {
        await b.close()
      }
    },
  )

  it('reports depth by kind and state in stats() and /metrics, with attempts and the oldest queued age', async () => {
    const waiting = newKind('waiting')
    const ok = newKind('metrics-ok')
    const broken = newKind('metrics-broken')
    const now = clock.now().getTime()
    const queue = newQueue()
    await queue.insert(db, { kind: waiting, payload: {}, runAt: new Date(now - 30_000) })
    await queue.insert(db, { kind: waiting, payload: {}, runAt: new Date(now - 10_000) })
    // Through Kitsune's own runner, so that its attempts are counted in /metrics.
    t.kitsune.jobs.register(ok, async () => {})
    t.kitsune.jobs.register(broken, async () => {
      throw new PermanentJobError('no way')
    })
    await t.kitsune.uow.run(async (_repos, tx) => {
      await tx.enqueue({ kind: ok, payload: {} })
      await tx.enqueue({ kind: ok, payload: {} })
      await tx.enqueue({ kind: broken, payload: {} })
    })
    await until(
      async () =>
        (await rowsOfKind(db, ok)).every((row) => row.state === 'done') &&
        (await rowsOfKind(db, broken)).every((row) => row.state === 'dead'),
      'the jobs to finish',
    )

    const stats = await t.kitsune.jobs.stats()
    expect(stats).toContainEqual({ kind: waiting, state: 'queued', count: 2, oldestSeconds: 30 })
    expect(stats).toContainEqual(expect.objectContaining({ kind: ok, state: 'done', count: 2 }))
    expect(stats).toContainEqual(expect.objectContaining({ kind: broken, state: 'dead', count: 1 }))

    const response = await t.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    const text = response.body
    expect(text).toContain('# TYPE kitsune_jobs gauge')
    expect(text).toContain('# TYPE kitsune_job_attempts_total counter')
    expect(text).toContain('# TYPE kitsune_job_oldest_queued_seconds gauge')
    expect(sample(text, 'kitsune_jobs', { kind: waiting, state: 'queued' })).toBe(2)
    expect(sample(text, 'kitsune_jobs', { kind: ok, state: 'done' })).toBe(2)
    expect(sample(text, 'kitsune_jobs', { kind: broken, state: 'dead' })).toBe(1)
    expect(sample(text, 'kitsune_job_oldest_queued_seconds', { kind: waiting })).toBe(30)
    expect(sample(text, 'kitsune_job_attempts_total', { kind: ok, result: 'done' })).toBe(2)
    expect(sample(text, 'kitsune_job_attempts_total', { kind: broken, result: 'dead' })).toBe(1)
  })
})
