import type { Command } from '../command.js'
import { importCommand } from './import.command.js'

/** The earlier name of `kitsune import jsonl`, kept for scripts that use it. */
export const usersImportCommand: Command = {
  summary: 'Import users from a JSON-lines file (the earlier name of `kitsune import jsonl`)',
  usage: 'FILE.jsonl [--dry-run] [--report FILE]',
  help:
    'Same as `kitsune import jsonl FILE`: bad lines are rejected with their numbers (exit 1), the\n' +
    'others are imported; --skip-invalid is accepted for compatibility and changes nothing.\n',
  options: {
    'skip-invalid': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    report: { type: 'string' },
  },
  run: ({ values, positionals }) =>
    importCommand.run({
      values: { ...values, 'skip-invalid': undefined },
      positionals: ['jsonl', ...positionals],
    }),
}
