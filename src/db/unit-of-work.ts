import type { Kysely, Transaction } from 'kysely'
import type { JobSpec } from '../jobs/job-queue.js'
import type { Database } from './schema.js'

export type Executor = Kysely<Database> | Transaction<Database>

/**
 * Runs a use case in one transaction. `makeRepos` builds the repositories over the transaction;
 * everything the callback writes commits together or rolls back together. Work that must follow a
 * commit (mail, cache invalidation) is registered with `afterCommit` and runs only on success.
 */
export interface UnitOfWork<R> {
  run<T>(work: (repos: R, tx: TransactionContext) => Promise<T>): Promise<T>
  /** Repositories over the pool, for single reads that need no transaction. */
  readonly read: R
  /**
   * Reads in one REPEATABLE READ, READ ONLY transaction: every statement sees the same snapshot
   * (an export of many pages is consistent), and nothing can be written.
   */
  snapshot<T>(work: (repos: R) => Promise<T>): Promise<T>
}

export interface TransactionContext {
  afterCommit(task: () => void | Promise<void>): void
  /**
   * Writes a job in this transaction: it exists (and runs) exactly when the change commits; a
   * rolled-back change leaves none. See jobs/job-queue.ts.
   */
  enqueue(job: JobSpec): Promise<void>
}

/** Where a unit of work writes its jobs, and whom it tells when they committed. */
export interface JobSink {
  insert(executor: Executor, job: JobSpec): Promise<unknown>
  wake(): void
}

export type AfterCommitErrorSink = (error: unknown) => void

export function createUnitOfWork<R>(
  db: Kysely<Database>,
  makeRepos: (executor: Executor) => R,
  onAfterCommitError: AfterCommitErrorSink,
  jobs?: JobSink,
): UnitOfWork<R> {
  return {
    read: makeRepos(db),
    snapshot: (work) =>
      db
        .transaction()
        .setIsolationLevel('repeatable read')
        .setAccessMode('read only')
        .execute((trx) => work(makeRepos(trx))),
    async run(work) {
      const tasks: Array<() => void | Promise<void>> = []
      let enqueued = false
      const result = await db.transaction().execute((trx) =>
        work(makeRepos(trx), {
          afterCommit: (t) => tasks.push(t),
          async enqueue(job) {
            if (!jobs) throw new Error('this unit of work has no job queue')
            await jobs.insert(trx, job)
            enqueued = true
          },
        }),
      )
      if (enqueued) jobs?.wake()
      for (const task of tasks) {
        try {
          await task()
        } catch (error) {
          onAfterCommitError(error)
        }
      }
      return result
    },
  }
}
