import { loadConfig } from '../../config/load-config.js'
import { createKitsune, type Kitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import { CliError, type Command } from '../command.js'

async function withKitsune<T>(work: (kitsune: Kitsune) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
  const kitsune = await createKitsune(config, { logger, runJobs: false })
  try {
    return await work(kitsune)
  } finally {
    await kitsune.close()
  }
}

export const auditVerifyCommand: Command = {
  summary: "Check the audit log's hash chain; exit 1 and name the first broken entry if it is not intact",
  async run() {
    const result = await withKitsune((kitsune) => kitsune.services.audit.verify())
    if (result.ok) {
      process.stdout.write(`audit log intact: ${result.checked} entries checked\n`)
      return 0
    }
    process.stdout.write(
      `audit log BROKEN at entry ${result.first_bad_id} (after ${result.checked - 1} good entries)\n`,
    )
    return 1
  },
}

export const auditPruneCommand: Command = {
  summary: 'Delete audit entries older than AUDIT_RETENTION_DAYS (or --days), keeping the chain verifiable',
  usage: '[--days N]',
  options: { days: { type: 'string' } },
  async run({ values }) {
    const config = loadConfig()
    const days = typeof values.days === 'string' ? Number(values.days) : config.auditRetentionDays
    if (days === undefined)
      throw new CliError('no retention set: pass --days N or set AUDIT_RETENTION_DAYS', 2)
    if (!Number.isInteger(days) || days < 1) throw new CliError('--days must be a positive integer', 2)
    const { deleted } = await withKitsune((kitsune) => kitsune.services.audit.prune(days))
    process.stdout.write(`pruned ${deleted} audit entries older than ${days} days\n`)
    return 0
  },
}
