import { loadConfig } from '../../config/load-config.js'
import { createDatabase } from '../../db/database.js'
import { migrateToLatest } from '../../db/migrator.js'
import { createLogger } from '../../observability/logger.js'
import type { Command } from '../command.js'

export const migrateCommand: Command = {
  summary: 'Apply pending database migrations',
  help: 'Uses DATABASE_URL like the service. Safe to run while instances are starting: runs take a lock.\n',
  async run() {
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    const database = await createDatabase(config.database, logger)
    try {
      const applied = await migrateToLatest(database.db)
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n')
      return 0
    } finally {
      await database.close()
    }
  },
}
