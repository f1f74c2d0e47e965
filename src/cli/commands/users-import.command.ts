import { readFileSync } from 'node:fs'
import { loadConfig } from '../../config/load-config.js'
import { createKitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import { CliError, type Command } from '../command.js'

export const usersImportCommand: Command = {
  summary: 'Import users from a JSON-lines file (bcrypt or argon2id hashes keep working)',
  usage: 'FILE.jsonl [--skip-invalid]',
  help:
    'Each line: {"email", "full_name", "password_hash", "is_active", "roles"}. Without --skip-invalid a file\n' +
    'with any bad line imports nothing; with it, good lines are imported and bad ones listed.\n',
  options: { 'skip-invalid': { type: 'boolean' } },
  async run({ values, positionals }) {
    const [file] = positionals
    if (!file) throw new CliError('a FILE.jsonl argument is required', 2)
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      throw new CliError(`cannot read ${file}`, 2)
    }
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    const kitsune = await createKitsune(config, { logger, runJobs: false })
    try {
      const result = await kitsune.services.userImport.importLines(text.split(/\r?\n/), {
        skipInvalid: values['skip-invalid'] === true,
      })
      for (const error of result.errors) process.stderr.write(`${file}:${error.line}: ${error.message}\n`)
      if (!result.committed) {
        process.stderr.write(
          `nothing imported: ${result.errors.length} bad line(s); fix them or pass --skip-invalid\n`,
        )
        return 1
      }
      process.stdout.write(
        `imported ${result.imported} user(s); skipped ${result.errors.length} bad line(s)\n`,
      )
      return 0
    } finally {
      await kitsune.close()
    }
  },
}
