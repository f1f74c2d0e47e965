import { loadConfig } from '../../config/load-config.js'
import { createKitsune, type Kitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import { CliError, type Command } from '../command.js'

const STATES = ['queued', 'done', 'dead'] as const
type State = (typeof STATES)[number]
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A one-shot command: it reads and writes the queue, and never runs a job itself. */
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

/** One line, at most `max` characters: last errors can be long and span lines. */
const oneLine = (text: string | null, max = 80) => {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return `${[line(header), ...rows.map(line)].join('\n')}\n`
}

export const jobsListCommand: Command = {
  summary: 'List jobs of the durable queue, newest first (dead ones: e-mail that could not be sent)',
  usage: '[--state queued|done|dead] [--kind KIND] [--limit N]',
  help:
    '\nOptions:\n' +
    '  --state STATE   only jobs in STATE: queued, done or dead\n' +
    '  --kind KIND     only jobs of KIND (e.g. email.send)\n' +
    '  --limit N       at most N jobs (1 to 500, default 50)\n',
  options: { state: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' } },
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new CliError(`unexpected argument: ${positionals[0]}`, 2)
    const state = values.state as string | undefined
    if (state !== undefined && !(STATES as readonly string[]).includes(state))
      throw new CliError(`--state must be one of ${STATES.join(', ')}`, 2)
    const limit = values.limit === undefined ? undefined : Number(values.limit)
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 500))
      throw new CliError('--limit must be an integer from 1 to 500', 2)
    const kind = values.kind as string | undefined
    const jobs = await withKitsune((kitsune) =>
      kitsune.jobs.list({ state: state as State | undefined, kind, limit }),
    )
    if (jobs.length === 0) {
      process.stdout.write('no jobs\n')
      return 0
    }
    process.stdout.write(
      table(
        ['ID', 'KIND', 'STATE', 'ATTEMPTS', 'CREATED', 'LAST ERROR'],
        jobs.map((job) => [
          job.id,
          job.kind,
          job.state,
          String(job.attempts),
          new Date(job.created_at).toISOString(),
          oneLine(job.last_error),
        ]),
      ),
    )
    return 0
  },
}

export const jobsRetryCommand: Command = {
  summary: 'Put a dead job back in the queue, to run now (exit 1 if it is not dead or not found)',
  usage: 'ID',
  options: {},
  async run({ positionals }) {
    const [id, ...extra] = positionals
    if (!id || extra.length > 0) throw new CliError('usage: kitsune jobs retry ID', 2)
    if (!UUID.test(id)) throw new CliError(`no dead job ${id}`, 1)
    const retried = await withKitsune((kitsune) => kitsune.jobs.retry(id))
    if (!retried) throw new CliError(`no dead job ${id} (not found, or not dead)`, 1)
    process.stdout.write(`job ${id} queued again; a running server sends it now\n`)
    return 0
  },
}
