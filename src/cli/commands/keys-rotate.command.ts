import { loadConfig } from '../../config/load-config.js'
import { createKitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import type { Command } from '../command.js'

export const keysRotateCommand: Command = {
  summary: 'Make a new signing key current; the old one verifies until its tokens expire',
  help: 'Every instance picks up the new key within a minute, and verifies its tokens at once.\n',
  async run() {
    const config = loadConfig()
    const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
    const kitsune = await createKitsune(config, { logger })
    try {
      const { kid, retired } = await kitsune.services.keys.rotate()
      process.stdout.write(`new signing key ${kid} is current; ${retired} previous key(s) retired\n`)
      return 0
    } finally {
      await kitsune.close()
    }
  },
}
