import { NO_PASSWORD } from '../auth/password-hasher.js'
import type { SecretBox } from '../auth/secret-box.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { EXPORT_FORMAT, exportTotpContext, type KitsuneExportHeader } from '../import/jsonl.source.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'
import { totpSealContext } from './mfa.service.js'

export interface ExportSummary {
  users: number
  with_totp: number
  passkeys: number
  /** Accounts with two-step verification whose secrets stayed behind (no `--include-mfa`). */
  mfa_left_out: number
  roles: number
}

export interface ExportOptions {
  /** With `--include-mfa`: seals each TOTP secret with the passphrase (and the header to open it). */
  mfa?: { header: unknown; seal(plaintext: string, context: string): string }
  /** Writes one line (without its newline); awaited, so a slow disk holds the export back. */
  write(line: string): Promise<void>
  pageSize?: number
}

/**
 * Writes every account as Kitsune JSON lines (the format `kitsune import jsonl` reads): a header
 * with the custom roles (and, with MFA, the passphrase's parameters), then one line per account in
 * id order: id, e-mail, verification, name, password hash as stored, roles, locale, and with MFA
 * the TOTP secret sealed with the passphrase (bound to the account's id) and the hashes of unused
 * recovery codes. Pages are read by id, so memory stays bounded. The export is audited.
 */
export function createUserExportService(deps: {
  uow: UnitOfWork<Repositories>
  audit: AuditService
  secretBox: SecretBox
  clock: Clock
}) {
  const { uow, audit, secretBox, clock } = deps
  /** Writes the header and every account, reading through `repos` (one snapshot). */
  async function writeAll(repos: Repositories, options: ExportOptions): Promise<ExportSummary> {
    const [roles, grants] = await Promise.all([repos.roles.list(), repos.roles.grants()])
    const custom = roles.filter((role) => !role.built_in)
    const header: KitsuneExportHeader = {
      format: EXPORT_FORMAT,
      version: 1,
      exported_at: clock.now().toISOString(),
      roles: custom.map((role) => ({
        name: role.name,
        description: role.description,
        permissions: grants[role.name] ?? [],
      })),
      ...(options.mfa ? { mfa: options.mfa.header } : {}),
    }
    await options.write(JSON.stringify(header))
    const summary: ExportSummary = {
      users: 0,
      with_totp: 0,
      passkeys: 0,
      mfa_left_out: 0,
      roles: custom.length,
    }
    let after: string | null = null
    for (;;) {
      const page = await repos.users.exportPage(after, options.pageSize ?? 1000)
      if (page.length === 0) break
      after = page.at(-1)?.id ?? null
      const secrets = options.mfa
        ? await repos.mfa.secretsFor(page.filter((u) => u.mfa_enabled).map((u) => u.id))
        : { totp: [], recoveryCodes: [] }
      const passkeys = new Map<string, Array<Record<string, unknown>>>()
      for (const p of await repos.passkeys.listByUsers(page.map((u) => u.id))) {
        passkeys.set(p.user_id, [
          ...(passkeys.get(p.user_id) ?? []),
          {
            credential_id: p.credential_id,
            public_key: p.public_key,
            sign_count: Number(p.sign_count),
            transports: p.transports,
            aaguid: p.aaguid,
            backup_eligible: p.backup_eligible,
            backed_up: p.backed_up,
            user_verified: p.user_verified,
            name: p.name,
            created_at: new Date(p.created_at).toISOString(),
          },
        ])
      }
      const totp = new Map(secrets.totp.map((row) => [row.user_id, row.secret_enc]))
      const codes = new Map<string, string[]>()
      for (const row of secrets.recoveryCodes)
        codes.set(row.user_id, [...(codes.get(row.user_id) ?? []), row.code_hash])
      for (const user of page) {
        const sealed = totp.get(user.id)
        let mfa: { totp: string; recovery_codes: string[] } | undefined
        if (options.mfa && sealed) {
          const secret = secretBox.open(sealed, totpSealContext(user.id))
          mfa = {
            totp: options.mfa.seal(secret, exportTotpContext(user.id)),
            recovery_codes: codes.get(user.id) ?? [],
          }
          summary.with_totp++
        } else if (user.mfa_enabled && !passkeys.has(user.id)) summary.mfa_left_out++
        await options.write(
          JSON.stringify({
            id: user.id,
            email: user.email,
            email_verified: user.email_verified,
            full_name: user.full_name,
            password_hash: user.password_hash === NO_PASSWORD ? null : user.password_hash,
            is_active: user.is_active,
            roles: user.roles,
            created_at: new Date(user.created_at).toISOString(),
            locale: user.locale,
            mfa_enabled: user.mfa_enabled,
            ...(mfa ? { mfa } : {}),
            ...(passkeys.has(user.id) ? { passkeys: passkeys.get(user.id) } : {}),
          }),
        )
        summary.users++
        summary.passkeys += passkeys.get(user.id)?.length ?? 0
      }
    }
    return summary
  }

  return {
    exportUsers: async (options: ExportOptions): Promise<ExportSummary> => {
      // One snapshot for the whole file: an account changed meanwhile is in one state or the other.
      const summary = await uow.snapshot((repos) => writeAll(repos, options))
      await uow.run((r, tx) =>
        audit.record(r, tx, undefined, {
          action: 'users.exported',
          actorId: null,
          metadata: { count: summary.users, include_mfa: Boolean(options.mfa), with_mfa: summary.with_totp },
        }),
      )
      return summary
    },
  }
}

export type UserExportService = ReturnType<typeof createUserExportService>
