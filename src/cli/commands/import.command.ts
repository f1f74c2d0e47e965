import { once } from 'node:events'
import { accessSync, constants, createWriteStream, readFileSync, type WriteStream } from 'node:fs'
import type { FirebaseHashParams } from '../../auth/foreign-hashes.js'
import { openPassphraseSeal, PassphraseError } from '../../auth/passphrase-seal.js'
import { loadConfig } from '../../config/load-config.js'
import { auth0Source } from '../../import/auth0.source.js'
import { firebaseSource } from '../../import/firebase.source.js'
import { jsonlSource, readJsonlHeader } from '../../import/jsonl.source.js'
import { keycloakSource } from '../../import/keycloak.source.js'
import { SourceError } from '../../import/readers.js'
import { IMPORT_KINDS, type ImportKind, type ImportSource } from '../../import/sources.js'
import { supabaseSource } from '../../import/supabase.source.js'
import { createKitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import {
  ImportBatchError,
  type ImportOutcome,
  type ImportSummary,
} from '../../services/user-import.service.js'
import { CliError, type Command, type CommandInput } from '../command.js'
import { readSecret } from '../read-secret.js'

/** Rejected lines printed on stderr; the rest are counted (all of them are in --report). */
const MAX_PRINTED = 1000

const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/

/**
 * Firebase's "password hash parameters" (Authentication → Users → ⋮): from the options, or from a
 * file holding the console's `hash_config { … }` block (or the same keys as JSON).
 */
function firebaseParams(values: CommandInput['values']): FirebaseHashParams {
  const fromFile: Record<string, string> = {}
  if (typeof values['hash-config'] === 'string') {
    let text: string
    try {
      text = readFileSync(values['hash-config'], 'utf8')
    } catch {
      throw new CliError(`cannot read ${values['hash-config']}`, 2)
    }
    for (const match of text.matchAll(/"?([a-z0-9_]+)"?\s*:\s*"?([^",\n}]+)"?/gi))
      fromFile[(match[1] as string).toLowerCase()] = (match[2] as string).trim()
  }
  const pick = (option: string, key: string) => {
    const value = values[option]
    return typeof value === 'string' ? value : fromFile[key]
  }
  const signerKey = pick('signer-key', 'base64_signer_key')
  const saltSeparator = pick('salt-separator', 'base64_salt_separator')
  const rounds = Number(pick('rounds', 'rounds'))
  const memCost = Number(pick('mem-cost', 'mem_cost'))
  const missing = [
    !signerKey || !B64.test(signerKey) ? '--signer-key (base64)' : '',
    saltSeparator === undefined || (saltSeparator !== '' && !B64.test(saltSeparator))
      ? '--salt-separator (base64)'
      : '',
    !Number.isInteger(rounds) || rounds < 1 || rounds > 32 ? '--rounds (1–32)' : '',
    !Number.isInteger(memCost) || memCost < 1 || memCost > 20 ? '--mem-cost (1–20)' : '',
  ].filter(Boolean)
  if (missing.length > 0)
    throw new CliError(
      `firebase needs the project's password hash parameters: ${missing.join(', ')} (or --hash-config FILE)`,
      2,
    )
  return { signerKey: signerKey as string, saltSeparator: saltSeparator as string, rounds, memCost }
}

async function passphraseFor(purpose: string): Promise<string> {
  const fromEnv = process.env.KITSUNE_EXPORT_PASSPHRASE
  if (fromEnv) return fromEnv
  if (!process.stdin.isTTY)
    throw new CliError(`${purpose}: set KITSUNE_EXPORT_PASSPHRASE or run on a terminal to be asked`, 2)
  return readSecret('Export passphrase: ')
}

async function sourceFor(
  kind: ImportKind,
  file: string,
  values: CommandInput['values'],
): Promise<ImportSource> {
  switch (kind) {
    case 'keycloak':
      return keycloakSource
    case 'supabase':
      return supabaseSource
    case 'auth0':
      return auth0Source
    case 'firebase':
      return firebaseSource(firebaseParams(values))
    case 'jsonl': {
      let header: Awaited<ReturnType<typeof readJsonlHeader>>
      try {
        header = await readJsonlHeader(file)
      } catch (error) {
        throw new CliError((error as Error).message, 2)
      }
      if (!header?.mfa) return jsonlSource(header)
      try {
        const seal = await openPassphraseSeal(
          await passphraseFor('the file holds sealed MFA secrets'),
          header.mfa,
        )
        return jsonlSource(header, seal.open)
      } catch (error) {
        if (error instanceof PassphraseError) throw new CliError(error.message, 2)
        throw error
      }
    }
  }
}

async function writeLine(stream: WriteStream, value: unknown): Promise<void> {
  if (!stream.write(`${JSON.stringify(value)}\n`)) await once(stream, 'drain')
}

function describe(summary: ImportSummary, file: string): string {
  const rate = summary.seconds > 0 ? Math.round(summary.read / summary.seconds) : summary.read
  const verb = summary.dry_run ? 'would create' : 'created'
  const parts = [
    `${summary.created} ${verb}`,
    `${summary.unchanged} unchanged (already present)`,
    `${summary.skipped} skipped`,
    `${summary.rejected} rejected`,
  ]
  const extra = [
    summary.roles_created.length > 0
      ? `roles ${summary.dry_run ? 'to create' : 'created'}: ${summary.roles_created.join(', ')}`
      : '',
    summary.with_totp > 0 ? `${summary.with_totp} with an authenticator app` : '',
    summary.passkeys > 0 ? `${summary.passkeys} passkey(s)` : '',
    summary.without_password > 0 ? `${summary.without_password} without a password (they reset it)` : '',
  ].filter(Boolean)
  let text = `${summary.source} ${file}: ${summary.read} read; ${parts.join(', ')}`
  if (extra.length > 0) text += `; ${extra.join('; ')}`
  text += ` (${summary.seconds} s, ${rate} records/s)\n`
  if (summary.dry_run) text += 'dry run: nothing was written\n'
  else if (summary.created === 0 && summary.roles_created.length === 0) text += 'nothing changed\n'
  return text
}

export const importCommand: Command = {
  summary:
    'Import users from keycloak, supabase, auth0, firebase or Kitsune jsonl, keeping their password hashes',
  usage: `${IMPORT_KINDS.join('|')} FILE [--dry-run] [--report FILE]`,
  help:
    "Password hashes are kept and verified at each user's first sign-in, then re-hashed to argon2id.\n" +
    'Accounts whose e-mail is already registered are left unchanged: running an import again changes\n' +
    'nothing. Bad records are rejected with their line number (exit 1); the others are imported.\n\n' +
    '  --dry-run          read everything and say what would change; write nothing\n' +
    '  --report FILE      one JSON line per record (created, unchanged, skipped, rejected) and a summary\n' +
    "firebase also needs the project's password hash parameters (console: Authentication → Users → ⋮):\n" +
    '  --signer-key B64 --salt-separator B64 --rounds N --mem-cost N, or --hash-config FILE\n' +
    'jsonl files written by `kitsune export --include-mfa` need the export passphrase (asked on the\n' +
    'terminal, or KITSUNE_EXPORT_PASSPHRASE).\n',
  options: {
    'dry-run': { type: 'boolean' },
    report: { type: 'string' },
    'signer-key': { type: 'string' },
    'salt-separator': { type: 'string' },
    rounds: { type: 'string' },
    'mem-cost': { type: 'string' },
    'hash-config': { type: 'string' },
  },
  async run({ values, positionals }) {
    const [kind, file, ...rest] = positionals
    if (!kind || !(IMPORT_KINDS as readonly string[]).includes(kind))
      throw new CliError(`the first argument is the kind of file: ${IMPORT_KINDS.join(', ')}`, 2)
    if (!file || rest.length > 0) throw new CliError('one FILE argument is required', 2)
    try {
      accessSync(file, constants.R_OK)
    } catch {
      throw new CliError(`cannot read ${file}`, 2)
    }
    const source = await sourceFor(kind as ImportKind, file, values)
    const dryRun = values['dry-run'] === true
    let report: WriteStream | undefined
    if (typeof values.report === 'string') {
      report = createWriteStream(values.report, { flags: 'w', mode: 0o600 })
      await once(report, 'open').catch(() => {
        throw new CliError(`cannot write ${values.report}`, 2)
      })
    }
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    // A dry run still brings the schema up to date (as `serve` would): it writes no account.
    const kitsune = await createKitsune(config, { logger, runJobs: false })
    let printed = 0
    try {
      const onOutcome = async (outcome: ImportOutcome) => {
        if (outcome.outcome === 'rejected' && printed++ < MAX_PRINTED)
          process.stderr.write(`${file}:${outcome.line}: ${outcome.reason}\n`)
        if (report) await writeLine(report, outcome)
      }
      let summary: ImportSummary
      try {
        summary = await kitsune.services.userImport.importFile(source, file, {
          source: kind,
          dryRun,
          onOutcome,
        })
      } catch (error) {
        if (error instanceof SourceError)
          throw new CliError(
            `${file}${error.line ? `:${error.line}` : ''}: ${error.message}; nothing after it was read`,
          )
        if (error instanceof ImportBatchError) throw new CliError(`${file}: ${error.message}`)
        throw error
      }
      if (printed > MAX_PRINTED)
        process.stderr.write(
          `… and ${printed - MAX_PRINTED} more rejected lines${report ? ' (all in the report)' : ''}\n`,
        )
      if (report) await writeLine(report, { summary })
      process.stdout.write(describe(summary, file))
      return summary.rejected > 0 ? 1 : 0
    } finally {
      if (report) {
        report.end()
        await once(report, 'close').catch(() => {})
      }
      await kitsune.close()
    }
  },
}
