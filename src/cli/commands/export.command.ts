import { once } from 'node:events'
import { createWriteStream, rmSync, type WriteStream } from 'node:fs'
import { createPassphraseSeal, MIN_PASSPHRASE_LENGTH, PassphraseError } from '../../auth/passphrase-seal.js'
import { loadConfig } from '../../config/load-config.js'
import { createKitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import { CliError, type Command } from '../command.js'
import { readSecret } from '../read-secret.js'

async function newPassphrase(): Promise<string> {
  const fromEnv = process.env.KITSUNE_EXPORT_PASSPHRASE
  if (fromEnv) return fromEnv
  if (!process.stdin.isTTY)
    throw new CliError(
      '--include-mfa needs a passphrase: set KITSUNE_EXPORT_PASSPHRASE or run on a terminal',
      2,
    )
  const first = await readSecret(
    `Passphrase for the MFA secrets (at least ${MIN_PASSPHRASE_LENGTH} characters): `,
  )
  const again = await readSecret('The same passphrase again: ')
  if (first !== again) throw new CliError('the two passphrases differ', 2)
  return first
}

export const exportCommand: Command = {
  summary: 'Export users, roles and password hashes as Kitsune JSONL (--include-mfa: sealed TOTP secrets)',
  usage: 'FILE.jsonl [--include-mfa]',
  help:
    'Writes a header line, then one account per line: id, e-mail, verification, name, password hash,\n' +
    'roles, created_at, locale. The file holds password hashes: it is created with mode 0600 and never\n' +
    'overwrites an existing file. `kitsune import jsonl FILE` reads it on any Kitsune instance.\n\n' +
    '  --include-mfa   also the TOTP secrets (sealed with a passphrase asked on the terminal, or\n' +
    '                  KITSUNE_EXPORT_PASSPHRASE) and unused recovery codes (as hashes)\n',
  options: { 'include-mfa': { type: 'boolean' } },
  async run({ values, positionals }) {
    const [file, ...rest] = positionals
    if (!file || rest.length > 0) throw new CliError('one FILE argument is required', 2)
    let mfa: { header: unknown; seal(plaintext: string, context: string): string } | undefined
    if (values['include-mfa'] === true) {
      try {
        mfa = await createPassphraseSeal(await newPassphrase())
      } catch (error) {
        if (error instanceof PassphraseError) throw new CliError(error.message, 2)
        throw error
      }
    }
    const out: WriteStream = createWriteStream(file, { flags: 'wx', mode: 0o600 })
    try {
      await once(out, 'open')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      throw new CliError(
        code === 'EEXIST' ? `${file} exists; choose another name` : `cannot write ${file}`,
        2,
      )
    }
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    let complete = false
    try {
      const kitsune = await createKitsune(config, { logger, runJobs: false, migrate: false })
      try {
        const summary = await kitsune.services.userExport.exportUsers({
          ...(mfa ? { mfa } : {}),
          async write(line) {
            if (!out.write(`${line}\n`)) await once(out, 'drain')
          },
        })
        out.end()
        await once(out, 'finish')
        complete = true
        process.stdout.write(
          `exported ${summary.users} user(s), ${summary.passkeys} passkey(s) and ${summary.roles} custom role(s) to ${file}` +
            (mfa ? `; ${summary.with_totp} authenticator secret(s) sealed with the passphrase` : '') +
            (summary.mfa_left_out > 0
              ? `; ${summary.mfa_left_out} account(s) with two-step verification exported without it (--include-mfa keeps it)`
              : '') +
            '\n',
        )
        return 0
      } finally {
        await kitsune.close()
      }
    } finally {
      // A half-written export is worse than none: it would import as if it were whole.
      if (!complete) {
        out.destroy()
        rmSync(file, { force: true })
      }
    }
  },
}
