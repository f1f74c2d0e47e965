import type { Kysely, Transaction } from 'kysely'
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
}

export interface TransactionContext {
  afterCommit(task: () => void | Promise<void>): void
}

export type AfterCommitErrorSink = (error: unknown) => void

export function createUnitOfWork<R>(
  db: Kysely<Database>,
  makeRepos: (executor: Executor) => R,
  onAfterCommitError: AfterCommitErrorSink,
): UnitOfWork<R> {
  return {
    read: makeRepos(db),
    async run(work) {
      const tasks: Array<() => void | Promise<void>> = []
      const result = await db
        .transaction()
        .execute((trx) => work(makeRepos(trx), { afterCommit: (t) => tasks.push(t) }))
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
