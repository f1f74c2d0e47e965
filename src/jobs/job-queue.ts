import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Kysely } from 'kysely'
import { sql } from '../db/kysely.js'
import type { Database } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'

/** A job to write in the current transaction (TransactionContext.enqueue). */
export interface JobSpec {
  readonly kind: string
  /** JSON; never a secret in clear (seal it: see mail-jobs.ts). */
  readonly payload: unknown
  /** Not before this time (default: now). */
  readonly runAt?: Date
}

/** How a kind of job is retried: exponential back-off with jitter until `deadAfterSeconds`. */
export interface JobPolicy {
  readonly firstDelaySeconds: number
  readonly maxDelaySeconds: number
  /** From its creation; a job still failing then is dead (kept, visible, retried by hand only). */
  readonly deadAfterSeconds: number
  /** How long a claim holds the job: longer than the handler ever runs. */
  readonly leaseSeconds: number
}

export interface ClaimedJob {
  readonly id: string
  readonly kind: string
  readonly payload: unknown
  /** This attempt's number, from 1. */
  readonly attempts: number
  readonly createdAt: Date
  /** A failure after this time is final (a dead job retried by hand gets a new window). */
  readonly deadAfter: Date
}

export type JobHandler = (job: ClaimedJob) => Promise<void>

/** Thrown by a handler when trying again cannot help: the job is dead at once. */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError'
}

export interface JobQueueLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface JobMetrics {
  jobAttempt(kind: string, result: 'done' | 'retry' | 'dead', seconds: number): void
}

export interface QueueStats {
  kind: string
  state: 'queued' | 'done' | 'dead'
  count: number
  /** Age of the oldest job in this state (queued: waiting since its run_at). */
  oldestSeconds: number
}

export interface JobRow {
  id: string
  kind: string
  state: string
  attempts: number
  run_at: Date
  created_at: Date
  finished_at: Date | null
  last_error: string | null
}

const DEFAULT_POLICY: JobPolicy = {
  firstDelaySeconds: 10,
  maxDelaySeconds: 3600,
  deadAfterSeconds: 2 * 86_400,
  leaseSeconds: 120,
}
const ERROR_MAX = 1000
const DONE_KEPT_MS = 7 * 86_400_000
const DEAD_KEPT_MS = 30 * 86_400_000

/**
 * The delay before attempt `attempts + 1`: doubling from `firstDelaySeconds` up to
 * `maxDelaySeconds`, each drawn between half and all of that ("equal jitter"), so jobs that failed
 * together do not all come back together.
 */
export function retryDelaySeconds(policy: JobPolicy, attempts: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * 2 ** Math.max(0, attempts - 1))
  return ceiling / 2 + (ceiling / 2) * random()
}

const parsePayload = (value: unknown): unknown => (typeof value === 'string' ? JSON.parse(value) : value)

/**
 * The durable queue over Kitsune's own database. Jobs are rows written by use cases in their
 * transaction (`insert`); the runner of every instance with JOBS_ENABLED claims ready ones with
 * FOR UPDATE SKIP LOCKED (two instances never take the same row), runs their handler outside any
 * transaction, and records the outcome. A claim is a lease: if the instance dies mid-job the lease
 * runs out and another one runs it again, so a handler must tolerate a repeat (at least once).
 */
export function createJobQueue(deps: {
  db: Kysely<Database>
  clock: Clock
  logger: JobQueueLogger
  metrics?: JobMetrics
  /** Jobs run at once by this instance. */
  concurrency?: number
  /** How often an idle runner looks for due jobs (a commit in this instance wakes it at once). */
  pollIntervalMs?: number
  /** JOBS_LEASE_SECONDS: how long a claim holds a job, for every kind (default: each kind's own). */
  leaseSeconds?: number
}) {
  const { db, clock, logger } = deps
  const concurrency = deps.concurrency ?? 4
  const pollIntervalMs = deps.pollIntervalMs ?? 1000
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const handlers = new Map<string, { handle: JobHandler; policy: JobPolicy }>()
  const inFlight = new Set<Promise<void>>()
  let running = false
  let stopping = false
  let timer: NodeJS.Timeout | undefined
  let ticking: Promise<void> | undefined
  let again = false
  let lastPurge = 0

  const policyOf = (kind: string) => handlers.get(kind)?.policy ?? DEFAULT_POLICY

  const claim = async (limit: number): Promise<ClaimedJob[]> => {
    const kinds = [...handlers.keys()]
    if (kinds.length === 0 || limit <= 0) return []
    const now = clock.now()
    // The lease is the longest of the kinds' leases: one statement claims every kind.
    const lease = deps.leaseSeconds ?? Math.max(...kinds.map((kind) => policyOf(kind).leaseSeconds))
    const result = await sql<{
      id: string
      kind: string
      payload: unknown
      attempts: number
      created_at: Date
      dead_after: Date
    }>`
      UPDATE jobs SET locked_until = ${new Date(now.getTime() + lease * 1000)}, locked_by = ${workerId},
        attempts = attempts + 1
      WHERE id IN (
        SELECT id FROM jobs
        WHERE state = 'queued' AND run_at <= ${now} AND kind = ANY(${kinds})
          AND (locked_until IS NULL OR locked_until < ${now})
        ORDER BY run_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING id, kind, payload, attempts, created_at, dead_after`.execute(db)
    return result.rows.map((row) => ({
      id: row.id,
      kind: row.kind,
      payload: parsePayload(row.payload),
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
      deadAfter: new Date(row.dead_after),
    }))
  }

  const finish = async (job: ClaimedJob, error: unknown, startedAt: number) => {
    const seconds = (performance.now() - startedAt) / 1000
    const now = clock.now()
    if (error === undefined) {
      await db
        .updateTable('jobs')
        .set({ state: 'done', finished_at: now, locked_until: null, last_error: null, payload: '{}' })
        .where('id', '=', job.id)
        .where('locked_by', '=', workerId)
        .execute()
      deps.metrics?.jobAttempt(job.kind, 'done', seconds)
      return
    }
    const policy = policyOf(job.kind)
    const message = (error instanceof Error ? error.message : String(error)).slice(0, ERROR_MAX)
    const next = new Date(now.getTime() + retryDelaySeconds(policy, job.attempts) * 1000)
    const dead = error instanceof PermanentJobError || next > job.deadAfter
    await db
      .updateTable('jobs')
      .set(
        dead
          ? { state: 'dead', finished_at: now, locked_until: null, last_error: message }
          : { run_at: next, locked_until: null, last_error: message },
      )
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .execute()
    deps.metrics?.jobAttempt(job.kind, dead ? 'dead' : 'retry', seconds)
    const fields = { job_id: job.id, kind: job.kind, attempts: job.attempts, err: { message } }
    if (dead) logger.error(fields, 'job failed for good: dead-lettered')
    else logger.warn({ ...fields, retry_at: next.toISOString() }, 'job failed; will retry')
  }

  const run = (job: ClaimedJob) => {
    const handler = handlers.get(job.kind)
    const startedAt = performance.now()
    const work = (async () => {
      let failure: unknown
      try {
        if (!handler) throw new PermanentJobError(`no handler for ${job.kind}`)
        await handler.handle(job)
      } catch (error) {
        failure = error ?? new Error('job failed')
      }
      await finish(job, failure, startedAt)
    })()
      .catch((error: unknown) =>
        logger.error(
          { job_id: job.id, err: { message: (error as Error).message } },
          'job bookkeeping failed',
        ),
      )
      .finally(() => {
        inFlight.delete(work)
        schedule(0)
      })
    inFlight.add(work)
  }

  const purge = async () => {
    const now = clock.now().getTime()
    if (now - lastPurge < 10 * 60_000) return
    lastPurge = now
    await db
      .deleteFrom('jobs')
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'done'), eb('finished_at', '<', new Date(now - DONE_KEPT_MS))]),
          eb.and([eb('state', '=', 'dead'), eb('finished_at', '<', new Date(now - DEAD_KEPT_MS))]),
        ]),
      )
      .execute()
  }

  const tick = async () => {
    if (!running || stopping) return
    try {
      await purge()
      const claimed = await claim(concurrency - inFlight.size)
      for (const job of claimed) run(job)
      // A full batch: more may be waiting.
      if (claimed.length > 0 && inFlight.size < concurrency) again = true
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, 'job queue poll failed; will retry')
    }
  }

  function schedule(delayMs: number) {
    if (!running || stopping) return
    if (ticking) {
      again = true
      return
    }
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      ticking = tick().finally(() => {
        ticking = undefined
        const next = again ? 0 : pollIntervalMs
        again = false
        schedule(next)
      })
    }, delayMs)
    timer.unref()
  }

  return {
    workerId,

    /** What runs jobs of `kind` in this instance, and how they are retried. */
    register(kind: string, handle: JobHandler, policy: Partial<JobPolicy> = {}) {
      handlers.set(kind, { handle, policy: { ...DEFAULT_POLICY, ...policy } })
    },

    /** Writes a job through `executor` (the use case's transaction). */
    async insert(executor: Executor, spec: JobSpec): Promise<string> {
      const now = clock.now()
      const id = uuidv7()
      await executor
        .insertInto('jobs')
        .values({
          id,
          kind: spec.kind,
          payload: JSON.stringify(spec.payload ?? {}),
          run_at: spec.runAt ?? now,
          created_at: now,
          dead_after: new Date(now.getTime() + policyOf(spec.kind).deadAfterSeconds * 1000),
          locked_by: null,
          last_error: null,
        })
        .execute()
      return id
    },

    /** A transaction that wrote jobs committed: look for them now rather than at the next poll. */
    wake() {
      if (running) schedule(0)
    },

    start() {
      if (running) return
      running = true
      stopping = false
      schedule(0)
    },

    /** Stops claiming and waits for the jobs in hand (SIGTERM drain); unfinished ones are retried later. */
    async stop(): Promise<void> {
      stopping = true
      if (timer) clearTimeout(timer)
      timer = undefined
      await ticking
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
      running = false
    },

    /**
     * Resolves once no job is due or running here (tests, `kitsune` commands that wait for their
     * e-mail). Jobs waiting for a later retry do not count.
     */
    async idle(timeoutMs = 30_000): Promise<void> {
      const until = Date.now() + timeoutMs
      for (;;) {
        if (inFlight.size === 0 && !ticking) {
          const due = await db
            .selectFrom('jobs')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('state', '=', 'queued')
            .where('run_at', '<=', clock.now())
            .where('kind', 'in', [...handlers.keys(), ''])
            .executeTakeFirstOrThrow()
          if (Number(due.n) === 0 || !running) return
        }
        if (Date.now() > until) throw new Error('the job queue did not go idle in time')
        schedule(0)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    },

    /** Depth and age by kind and state, for /metrics and operators. */
    async stats(): Promise<QueueStats[]> {
      const now = clock.now()
      const rows = await sql<{ kind: string; state: QueueStats['state']; n: string; oldest: Date | null }>`
        SELECT kind, state, count(*) AS n,
          min(CASE WHEN state = 'queued' THEN run_at ELSE finished_at END) AS oldest
        FROM jobs GROUP BY kind, state ORDER BY kind, state`.execute(db)
      return rows.rows.map((row) => ({
        kind: row.kind,
        state: row.state,
        count: Number(row.n),
        oldestSeconds: row.oldest ? Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000) : 0,
      }))
    },

    /** The newest jobs in a state (dead ones: what operators look at), without their payloads. */
    async list(filter: { state?: 'queued' | 'done' | 'dead'; kind?: string; limit?: number } = {}) {
      let query = db
        .selectFrom('jobs')
        .select(['id', 'kind', 'state', 'attempts', 'run_at', 'created_at', 'finished_at', 'last_error'])
        .orderBy('created_at', 'desc')
        .limit(Math.min(Math.max(filter.limit ?? 50, 1), 500))
      if (filter.state) query = query.where('state', '=', filter.state)
      if (filter.kind) query = query.where('kind', '=', filter.kind)
      return (await query.execute()) as JobRow[]
    },

    /** A dead job back in the queue, to run now (after an operator fixed the cause). */
    async retry(id: string): Promise<boolean> {
      const now = clock.now()
      const job = await db.selectFrom('jobs').select('kind').where('id', '=', id).executeTakeFirst()
      if (!job) return false
      const result = await db
        .updateTable('jobs')
        .set({
          state: 'queued',
          run_at: now,
          finished_at: null,
          dead_after: new Date(now.getTime() + policyOf(job.kind).deadAfterSeconds * 1000),
        })
        .where('id', '=', id)
        .where('state', '=', 'dead')
        .executeTakeFirst()
      this.wake()
      return result.numUpdatedRows > 0n
    },
  }
}

export type JobQueue = ReturnType<typeof createJobQueue>
