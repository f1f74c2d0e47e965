import { loadConfig } from '../../config/load-config.js'
import { AppError } from '../../errors/app-error.js'
import { createKitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import { CliError, type Command } from '../command.js'
import { readSecret } from '../read-secret.js'

export const createAdminCommand: Command = {
  summary: 'Create an administrator, or give an existing account the admin role',
  usage: '--email <address>',
  help: 'The password is asked for on a terminal, or read from the first line of stdin:\n  echo "$PASSWORD" | kitsune users create-admin --email admin@example.com\n',
  options: { email: { type: 'string' } },
  async run({ values }) {
    const email = values.email
    if (typeof email !== 'string' || email === '') throw new CliError('--email is required', 2)
    const password = await readSecret('Password: ')
    if ([...password].length < 8 || [...password].length > 256)
      throw new CliError('the password must be 8 to 256 characters', 2)
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    const kitsune = await createKitsune(config, { logger, runJobs: false })
    try {
      const { result, userId } = await kitsune.services.bootstrap.ensureAdmin(email, password)
      const said = {
        created: 'created administrator',
        promoted: 'gave the admin role to existing user',
        unchanged: 'already an administrator:',
      }
      process.stdout.write(`${said[result]} ${email} (${userId})\n`)
      return 0
    } catch (error) {
      if (error instanceof AppError && error.code === 'VALIDATION_FAILED')
        throw new CliError(error.detail ?? 'invalid input', 2)
      throw error
    } finally {
      await kitsune.close()
    }
  },
}
