import { createRequire } from 'node:module'
import type * as KyselyModule from 'kysely'

// Kysely's CommonJS build. Its ES module build is 289 files, and Node 20 keeps a module record,
// source and link state for each: the CommonJS graph starts ~10 MiB smaller and a little sooner.
// Import the values Kysely's runtime provides from here; types may come from 'kysely' directly.
const kysely = createRequire(import.meta.url)('kysely') as typeof KyselyModule

export const { Kysely, Migrator, PostgresDialect, sql } = kysely
export type Kysely<DB> = KyselyModule.Kysely<DB>
export type Migrator = KyselyModule.Migrator
