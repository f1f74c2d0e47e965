import { NO_PASSWORD } from '../auth/password-hasher.js'
import type { SecretBox } from '../auth/secret-box.js'
import type { NewUserRow } from '../db/schema.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { type ImportRecord, isRecord, type Mapped, storable } from '../import/import-record.js'
import type { SourceItem } from '../import/readers.js'
import { SeenKeys } from '../import/seen-keys.js'
import type { ImportSource } from '../import/sources.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'
import { totpSealContext } from './mfa.service.js'

/** What happened to one record of the file (the `--report` lines). */
export type ImportOutcome =
  | {
      line: number
      outcome: 'created' | 'would_create'
      id: string
      email: string
      source_id?: string
      notes?: string[]
    }
  | { line: number; outcome: 'unchanged'; id: string; email: string; reason: string }
  | { line: number; outcome: 'skipped'; reason: string }
  | { line: number; outcome: 'rejected'; reason: string }

export interface ImportSummary {
  source: string
  dry_run: boolean
  read: number
  created: number
  unchanged: number
  skipped: number
  rejected: number
  with_totp: number
  /** Passkeys brought along (a credential already registered here is left out). */
  passkeys: number
  without_password: number
  roles_created: string[]
  seconds: number
}

export interface ImportOptions {
  /** The source kind, for the summary and the audit entry. */
  source: string
  dryRun: boolean
  /** Called for every record, in file order. */
  onOutcome?: (outcome: ImportOutcome) => void | Promise<void>
  batchSize?: number
}

/** A batch's transaction failed: nothing of lines first..last was written (earlier batches were). */
export class ImportBatchError extends Error {
  constructor(
    readonly firstLine: number,
    readonly lastLine: number,
    cause: unknown,
  ) {
    super(
      `lines ${firstLine}–${lastLine}: nothing of this batch was written (${cause instanceof Error ? cause.message : String(cause)}); earlier batches were, and running the import again continues where it stopped`,
      { cause },
    )
  }
}

/**
 * Imports accounts from any source (Keycloak, Supabase, Auth0, Firebase, Kitsune's JSON lines) with
 * their original password hashes, which are verified at the owner's first sign-in and re-hashed to
 * argon2id then. The file is streamed: records are taken in batches, each batch one transaction
 * (all or nothing), so memory stays bounded whatever the file's size. An account whose e-mail is
 * already registered is left as it is ("unchanged"): a second run changes nothing. One audit entry
 * sums the run up; a dry run reads the database and writes nothing.
 */
export function createUserImportService(deps: {
  uow: UnitOfWork<Repositories>
  audit: AuditService
  secretBox: SecretBox
  clock: Clock
}) {
  const { uow, audit, secretBox, clock } = deps

  return {
    async importFile(source: ImportSource, path: string, options: ImportOptions): Promise<ImportSummary> {
      return this.importItems(source, source.read(path), options)
    },

    async importItems(
      source: ImportSource,
      items: AsyncIterable<SourceItem>,
      options: ImportOptions,
    ): Promise<ImportSummary> {
      const started = performance.now()
      const batchSize = options.batchSize ?? 1000
      const summary: ImportSummary = {
        source: options.source,
        dry_run: options.dryRun,
        read: 0,
        created: 0,
        unchanged: 0,
        skipped: 0,
        rejected: 0,
        with_totp: 0,
        passkeys: 0,
        without_password: 0,
        roles_created: [],
        seconds: 0,
      }
      const knownRoles = new Set<string>()
      const seenEmails = new SeenKeys()
      const definitions = new Map((source.roles ?? []).map((role) => [role.name, role]))
      const report = async (outcome: ImportOutcome) => {
        if (outcome.outcome === 'created' || outcome.outcome === 'would_create') summary.created++
        else summary[outcome.outcome]++
        await options.onOutcome?.(outcome)
      }

      const flush = async (batch: Mapped[]) => {
        if (batch.length === 0) return
        const records = batch.filter(isRecord)
        const outcomes = new Map<number, ImportOutcome>()
        for (const item of batch) {
          if ('error' in item)
            outcomes.set(item.line, { line: item.line, outcome: 'rejected', reason: item.error })
          else if ('skip' in item)
            outcomes.set(item.line, { line: item.line, outcome: 'skipped', reason: item.skip })
        }
        // The same address twice in one file: the later record is rejected, however far apart.
        const unique: ImportRecord[] = []
        for (const record of records) {
          const first = seenEmails.add(record.email, record.line)
          if (first === undefined) unique.push(record)
          else
            outcomes.set(record.line, {
              line: record.line,
              outcome: 'rejected',
              reason: `duplicate of line ${first} (the same e-mail address)`,
            })
        }
        const work = async (repos: Repositories) => {
          const existing = await repos.users.findByEmailsOrIds(
            unique.map((r) => r.email),
            unique.flatMap((r) => (r.id ? [r.id] : [])),
          )
          const byEmail = new Map(existing.map((row) => [row.email, row.id]))
          const byId = new Map(existing.map((row) => [row.id, row.email]))
          let fresh: Array<ImportRecord & { id: string }> = []
          const seenId = new Map<string, number>()
          for (const record of unique) {
            const taken = byEmail.get(record.email)
            if (taken) {
              outcomes.set(record.line, {
                line: record.line,
                outcome: 'unchanged',
                id: taken,
                email: record.email,
                reason: 'e-mail already registered',
              })
            } else if (record.id && byId.has(record.id)) {
              outcomes.set(record.line, {
                line: record.line,
                outcome: 'rejected',
                reason: `id ${record.id} belongs to another account`,
              })
            } else if (record.id && seenId.has(record.id)) {
              outcomes.set(record.line, {
                line: record.line,
                outcome: 'rejected',
                reason: `duplicate of line ${seenId.get(record.id)} (the same id)`,
              })
            } else {
              const id = record.id ?? uuidv7()
              seenId.set(id, record.line)
              fresh.push({ ...record, id })
            }
          }
          // Roles the batch needs that are not known yet: created when the source defines them (an
          // export's custom roles) or brings its own (Keycloak's realm roles); otherwise the records
          // that name them are rejected (a typo in a hand-made file must not invent a role).
          const wanted = [...new Set(fresh.flatMap((r) => r.roles))].filter((name) => !knownRoles.has(name))
          const unknownRoles = new Set<string>()
          if (wanted.length > 0) {
            const present = new Set(await repos.roles.existing(wanted))
            for (const name of wanted) {
              if (present.has(name)) knownRoles.add(name)
              else if (source.createsRoles || definitions.has(name)) {
                if (!options.dryRun) {
                  const definition = definitions.get(name)
                  await repos.roles.insert({
                    name,
                    description: definition?.description || `Imported from ${options.source}`,
                  })
                  if (definition && definition.permissions.length > 0)
                    await repos.roles.setPermissions(name, definition.permissions)
                }
                summary.roles_created.push(name)
                knownRoles.add(name)
              } else unknownRoles.add(name)
            }
          }
          if (unknownRoles.size > 0) {
            for (const record of fresh.filter((r) => r.roles.some((name) => unknownRoles.has(name)))) {
              outcomes.set(record.line, {
                line: record.line,
                outcome: 'rejected',
                reason: `unknown role(s): ${record.roles.filter((name) => unknownRoles.has(name)).join(', ')}`,
              })
            }
            fresh = fresh.filter((r) => !r.roles.some((name) => unknownRoles.has(name)))
          }
          if (!options.dryRun && fresh.length > 0) {
            const now = clock.now()
            await repos.users.insertMany(
              fresh.map(
                (r): NewUserRow => ({
                  id: r.id,
                  email: r.email,
                  full_name: r.fullName,
                  password_hash: r.passwordHash,
                  is_active: r.isActive,
                  email_verified: r.emailVerified,
                  // Two-step stays on only with a factor that came along to serve it.
                  // Two-step stays on only with a factor that came along to serve it (passkeys below).
                  mfa_enabled: r.totpSecret !== undefined,
                  locale: r.locale ?? null,
                  created_at: r.createdAt ?? now,
                  updated_at: now,
                  password_changed_at: now,
                }),
              ),
            )
            await repos.roles.addUserRolesMany(
              fresh.flatMap((r) => r.roles.map((role_name) => ({ user_id: r.id, role_name }))),
            )
            const withTotp = fresh.filter((r) => r.totpSecret !== undefined)
            await repos.mfa.insertMany(
              withTotp.map((r) => ({
                user_id: r.id,
                secret_enc: secretBox.seal(r.totpSecret as string, totpSealContext(r.id)),
                created_at: now,
                confirmed_at: now,
              })),
              withTotp.flatMap((r) =>
                (r.recoveryCodeHashes ?? []).map((code_hash) => ({
                  user_id: r.id,
                  code_hash,
                  created_at: now,
                })),
              ),
            )
          }
          if (!options.dryRun) {
            const now = clock.now()
            const owners = await repos.passkeys.insertMany(
              fresh.flatMap((r) =>
                (r.passkeys ?? []).map((p) => ({
                  ...p,
                  id: uuidv7(),
                  user_id: r.id,
                  sign_count: String(p.sign_count),
                  created_at: p.created_at ?? now,
                  last_used_at: null,
                })),
              ),
            )
            summary.passkeys += owners.length
            const twoStep = new Set(fresh.filter((r) => r.mfaEnabled && !r.totpSecret).map((r) => r.id))
            for (const userId of new Set(owners))
              if (twoStep.has(userId)) await repos.mfa.setEnabled(userId, true, now)
          } else summary.passkeys += fresh.reduce((n, r) => n + (r.passkeys?.length ?? 0), 0)
          for (const r of fresh) {
            if (r.totpSecret) summary.with_totp++
            if (r.passwordHash === NO_PASSWORD) summary.without_password++
            outcomes.set(r.line, {
              line: r.line,
              outcome: options.dryRun ? 'would_create' : 'created',
              id: r.id,
              email: r.email,
              ...(r.sourceId ? { source_id: r.sourceId } : {}),
              ...(r.notes ? { notes: r.notes } : {}),
            })
          }
        }
        const rolesBefore = summary.roles_created.length
        const counters = {
          with_totp: summary.with_totp,
          passkeys: summary.passkeys,
          without_password: summary.without_password,
        }
        try {
          if (options.dryRun) await work(uow.read)
          else await uow.run((repos) => work(repos))
        } catch (error) {
          // The batch rolled back: forget what it counted and the roles it believed it created.
          for (const name of summary.roles_created.splice(rolesBefore)) knownRoles.delete(name)
          Object.assign(summary, counters)
          throw new ImportBatchError(batch[0]?.line ?? 0, batch.at(-1)?.line ?? 0, error)
        }
        for (const item of batch) {
          const outcome = outcomes.get(item.line)
          if (outcome) await report(outcome)
        }
      }

      // What was written is audited even when the run stops part-way (a failed batch, a file that
      // stops being readable): earlier batches committed, and their accounts must not go unrecorded.
      const recordRun = async (stoppedAtLine?: number) => {
        summary.seconds = Math.round(performance.now() - started) / 1000
        if (options.dryRun || (summary.created === 0 && summary.roles_created.length === 0)) return
        await uow.run((repos, tx) =>
          audit.record(repos, tx, undefined, {
            action: 'user.created',
            actorId: null,
            metadata: {
              import: true,
              source: summary.source,
              count: summary.created,
              unchanged: summary.unchanged,
              skipped: summary.skipped,
              rejected: summary.rejected,
              // Named so the event's scrubber keeps them (it drops keys that look like secrets).
              with_mfa: summary.with_totp,
              needs_reset: summary.without_password,
              roles_created: summary.roles_created,
              ...(stoppedAtLine === undefined ? {} : { stopped_at_line: stoppedAtLine }),
            },
          }),
        )
      }

      let batch: Mapped[] = []
      try {
        for await (const item of items) {
          summary.read++
          batch.push(
            'error' in item
              ? { line: item.line, error: item.error }
              : storable(source.map(item.value, item.line)),
          )
          if (batch.length >= batchSize) {
            await flush(batch)
            batch = []
          }
        }
        await flush(batch)
      } catch (error) {
        const line =
          error instanceof ImportBatchError ? error.firstLine : ((error as { line?: number }).line ?? 0)
        // With the database gone this cannot be written either; the error that stopped the run wins.
        await recordRun(line).catch(() => undefined)
        throw error
      }
      await recordRun()
      return summary
    },
  }
}

export type UserImportService = ReturnType<typeof createUserImportService>
