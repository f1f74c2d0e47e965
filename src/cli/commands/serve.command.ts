import { CliError, type Command } from '../command.js'

export const serveCommand: Command = {
  summary: 'Run the HTTP service',
  usage: '[--workers N]',
  help: 'With --workers N (PostgreSQL only), N processes share the port: use every core of one machine.\n',
  options: { workers: { type: 'string' } },
  async run({ values }) {
    // Tracing first, so the modules loaded after it are instrumented (no-op without OTEL_* set).
    await import('../../otel.js')
    const { serve } = await import('../../main.js')
    const workers = values.workers === undefined ? 1 : Number(values.workers)
    if (!Number.isInteger(workers) || workers < 1 || workers > 64)
      throw new CliError('--workers must be an integer from 1 to 64', 2)
    await serve({ workers })
    return 0
  },
}
