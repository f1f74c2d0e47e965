import { loadConfig } from '../../config/load-config.js'
import { AppError } from '../../errors/app-error.js'
import { ALL_EVENTS, EVENT_TYPES } from '../../events/catalogue.js'
import { createKitsune, type Kitsune } from '../../kitsune.js'
import { createLogger } from '../../observability/logger.js'
import type { WebhookEndpoint } from '../../services/webhook.service.js'
import { CliError, type Command, type CommandInput } from '../command.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Runs `work` on a composed Kitsune (no job runner); the service's refusals become one line and exit 1. */
async function withWebhooks<T>(work: (webhooks: Kitsune['services']['webhooks']) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
  const kitsune = await createKitsune(config, { logger, runJobs: false })
  try {
    return await work(kitsune.services.webhooks)
  } catch (error) {
    if (error instanceof AppError && error.code === 'VALIDATION_FAILED') {
      const problems = error.errors?.map((e) => `${e.field.replace(/^\//, '')} ${e.message}`)
      throw new CliError(problems?.join('; ') ?? error.detail ?? 'invalid input', 1)
    }
    if (error instanceof AppError && (error.code === 'NOT_FOUND' || error.code === 'CONFLICT'))
      throw new CliError(error.detail ?? error.code, 1)
    throw error
  } finally {
    await kitsune.close()
  }
}

function onePositional({ positionals }: CommandInput, what: string): string {
  const [value, ...extra] = positionals
  if (!value || extra.length > 0) throw new CliError(`give exactly one ${what}`, 2)
  return value
}

function idOf(input: CommandInput): string {
  const id = onePositional(input, 'webhook id')
  if (!UUID.test(id)) throw new CliError(`not a webhook id (a UUID): ${id.slice(0, 100)}`, 2)
  return id.toLowerCase()
}

const stateOf = (endpoint: WebhookEndpoint) =>
  endpoint.enabled ? 'enabled' : `disabled${endpoint.disabled_reason ? ` (${endpoint.disabled_reason})` : ''}`

export const webhooksAddCommand: Command = {
  summary: 'Register a webhook endpoint; prints its id and signing secret (once)',
  usage: 'URL [--events TYPE,TYPE…|*] [--disabled]',
  help: [
    '--events: a comma list of event types, or * for every event (the default). The types:',
    ...EVENT_TYPES.map((type) => `  ${type}`),
    '--disabled: register it without sending anything to it yet.',
    'Loopback, private and link-local targets are refused unless WEBHOOKS_ALLOW_PRIVATE=true.',
    '',
  ].join('\n'),
  options: { events: { type: 'string' }, disabled: { type: 'boolean' } },
  async run(input) {
    const url = onePositional(input, 'URL')
    const eventsText = typeof input.values.events === 'string' ? input.values.events : ALL_EVENTS
    const events = eventsText
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
    if (events.length === 0) throw new CliError("--events needs at least one event type, or '*'", 2)
    const created = await withWebhooks((webhooks) =>
      webhooks.create(null, { url, events, enabled: input.values.disabled !== true }),
    )
    process.stdout.write(
      `id: ${created.id}\nurl: ${created.url}\nevents: ${created.events.join(',')}\nenabled: ${created.enabled}\nsecret: ${created.secret}\n(shown only now: store it safely)\n`,
    )
    return 0
  },
}

export const webhooksListCommand: Command = {
  summary: 'List webhook endpoints: id, URL, events, state and failing since, one per line',
  async run({ positionals }) {
    if (positionals.length > 0) throw new CliError('takes no arguments', 2)
    await withWebhooks(async (webhooks) => {
      let cursor: string | undefined
      do {
        const page = await webhooks.list({ limit: 100, cursor })
        for (const endpoint of page.items)
          process.stdout.write(
            `${endpoint.id}\t${endpoint.url}\t${endpoint.events.join(',')}\t${stateOf(endpoint)}\t${endpoint.failing_since?.toISOString() ?? '-'}\n`,
          )
        cursor = page.next_cursor ?? undefined
      } while (cursor)
    })
    return 0
  },
}

export const webhooksRemoveCommand: Command = {
  summary: 'Delete a webhook endpoint and its delivery log',
  usage: 'ID',
  async run(input) {
    const id = idOf(input)
    await withWebhooks((webhooks) => webhooks.remove(null, id))
    process.stdout.write(`deleted webhook ${id}\n`)
    return 0
  },
}

export const webhooksTestCommand: Command = {
  summary: 'Queue a webhook.test event for an endpoint; prints the delivery id (a running server sends it)',
  usage: 'ID',
  async run(input) {
    const id = idOf(input)
    const delivery = await withWebhooks((webhooks) => webhooks.sendTest(null, id))
    process.stdout.write(
      `delivery_id: ${delivery.id}\nevent_type: ${delivery.event_type}\nstate: ${delivery.state}\n(a running kitsune serve delivers it; see the endpoint's delivery log)\n`,
    )
    return 0
  },
}
