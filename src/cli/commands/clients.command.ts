import {
  CLIENT_ACR_VALUES,
  CLIENT_APPLICATION_TYPES,
  CLIENT_ID_TOKEN_ALGORITHMS,
} from '../../auth/client-metadata.js'
import type { Config } from '../../config/config.schema.js'
import { loadConfig } from '../../config/load-config.js'
import { AppError } from '../../errors/app-error.js'
import { createKitsune, type Kitsune } from '../../kitsune.js'
import { parseDurationSeconds } from '../../lib/duration.js'
import { createLogger } from '../../observability/logger.js'
import { createEngine, initialAccessTokenMinter } from '../../oidc/provider.js'
import type { OidcClientRecord } from '../../repositories/oidc-client.repository.js'
import { INITIAL_TOKEN_TTL } from '../../services/oidc-client.service.js'
import { cookiePolicy } from '../../web/csrf.js'
import { CliError, type Command, type CommandInput } from '../command.js'

/** Runs `work` on a composed Kitsune; the service's refusals become one line and an exit code. */
async function withClients<T>(
  work: (clients: Kitsune['services']['clients'], kitsune: Kitsune) => Promise<T>,
  config: Config = loadConfig(),
): Promise<T> {
  const logger = createLogger({ ...config, log: { ...config.log, format: 'json', level: 'warn' } })
  const kitsune = await createKitsune(config, { logger, runJobs: false })
  try {
    return await work(kitsune.services.clients, kitsune)
  } catch (error) {
    if (error instanceof AppError && error.code === 'VALIDATION_FAILED') {
      const problems = error.errors?.map((e) => `${e.field.replace(/^\//, '')} ${e.message}`)
      throw new CliError(problems?.join('; ') ?? error.detail ?? 'invalid input', 2)
    }
    if (error instanceof AppError && error.code === 'DYNAMIC_REGISTRATION_OFF')
      throw new CliError(error.detail ?? error.code, 2)
    if (error instanceof AppError && (error.code === 'NOT_FOUND' || error.code === 'CONFLICT'))
      throw new CliError(error.detail ?? error.code, 1)
    throw error
  } finally {
    await kitsune.close()
  }
}

function clientIdOf({ positionals }: CommandInput): string {
  const [clientId, ...extra] = positionals
  if (!clientId || extra.length > 0) throw new CliError('give exactly one client_id', 2)
  return clientId
}

const list = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.length > 0 ? value.map(String) : undefined

/** A repeatable option whose values may also be comma lists: `--acr a --acr b` or `--acr a,b`. */
const commaList = (value: unknown): string[] | undefined =>
  list(value)
    ?.flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '')

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

function describe(client: OidcClientRecord): string {
  const lines: Array<[string, string]> = [
    ['client_id', client.client_id],
    ['client_name', client.client_name],
    ['token_endpoint_auth_method', client.token_endpoint_auth_method],
    ['grant_types', client.grant_types.join(' ')],
    ['response_types', client.response_types.join(' ')],
    ['redirect_uris', client.redirect_uris.join(' ')],
    ['post_logout_redirect_uris', client.post_logout_redirect_uris.join(' ')],
    ['scope', client.scope],
    ['backchannel_logout_uri', client.backchannel_logout_uri ?? ''],
    ['jwks_uri', client.jwks_uri ?? ''],
    ['first_party', String(client.first_party)],
    ['application_type', client.application_type],
    ['id_token_signed_response_alg', client.id_token_signed_response_alg],
    ['default_acr_values', client.default_acr_values.join(' ')],
    ['permissions', client.permissions.join(' ')],
    ['created_at', client.created_at.toISOString()],
  ]
  return lines.map(([key, value]) => `${key}: ${value}\n`).join('')
}

export const clientsCreateCommand: Command = {
  summary:
    'Register an OpenID client; prints its client_id and, for a confidential client, its secret (once)',
  usage:
    '--name NAME [--redirect-uri URI]... [--grant GRANT]... [--public] [--first-party] [--scope "openid profile"] [--application-type web|native] [--id-token-alg ALG] [--acr VALUE]... [--permission PERMISSION]...',
  help: [
    'Grants: authorization_code (the default), refresh_token, client_credentials,',
    '  urn:ietf:params:oauth:grant-type:device_code. --public registers a client without a secret',
    '  (token_endpoint_auth_method none, e.g. a single-page or native app); otherwise the client',
    '  authenticates with client_secret_basic, and its secret is printed this once.',
    `--application-type: ${CLIENT_APPLICATION_TYPES.join(' or ')} (default web). A native app (RFC 8252)`,
    '  may use a private-use scheme redirect URI (com.example.app:/callback), and its loopback http',
    '  redirect URIs match on any port.',
    `--id-token-alg: how its ID tokens are signed, ${CLIENT_ID_TOKEN_ALGORITHMS.join(', ')} (default RS256).`,
    `--acr: repeatable or a comma list, the acr values asked for by default: ${CLIENT_ACR_VALUES.join(', ')}`,
    '  (the second demands a second factor).',
    '--permission: repeatable, a Kitsune permission (users:read…) the access tokens of a',
    '  client_credentials client carry.',
    '',
  ].join('\n'),
  options: {
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'post-logout-redirect-uri': { type: 'string', multiple: true },
    grant: { type: 'string', multiple: true },
    public: { type: 'boolean' },
    'first-party': { type: 'boolean' },
    scope: { type: 'string' },
    'application-type': { type: 'string' },
    'id-token-alg': { type: 'string' },
    acr: { type: 'string', multiple: true },
    permission: { type: 'string', multiple: true },
  },
  async run({ values }) {
    if (typeof values.name !== 'string' || values.name.trim() === '')
      throw new CliError('--name is required', 2)
    const created = await withClients((clients) =>
      clients.create(null, {
        client_name: values.name as string,
        redirect_uris: list(values['redirect-uri']),
        post_logout_redirect_uris: list(values['post-logout-redirect-uri']),
        grant_types: list(values.grant),
        token_endpoint_auth_method: values.public ? 'none' : undefined,
        first_party: values['first-party'] === true,
        scope: text(values.scope),
        application_type: text(values['application-type']),
        id_token_signed_response_alg: text(values['id-token-alg']),
        default_acr_values: commaList(values.acr),
        permissions: list(values.permission),
      }),
    )
    process.stdout.write(`client_id: ${created.client_id}\n`)
    if (created.client_secret)
      process.stdout.write(`client_secret: ${created.client_secret}\n(shown only now: store it safely)\n`)
    return 0
  },
}

export const clientsListCommand: Command = {
  summary: 'List OpenID clients: client_id, name, authentication method and grants, one per line',
  async run() {
    await withClients(async (clients) => {
      let cursor: string | undefined
      do {
        const page = await clients.list({ limit: 100, cursor })
        for (const client of page.items) {
          process.stdout.write(
            `${client.client_id}\t${client.client_name}\t${client.token_endpoint_auth_method}\t${client.grant_types.join(',')}\n`,
          )
        }
        cursor = page.next_cursor ?? undefined
      } while (cursor)
    })
    return 0
  },
}

export const clientsShowCommand: Command = {
  summary: "Show an OpenID client's metadata (never its secret)",
  usage: 'CLIENT_ID',
  async run(input) {
    const clientId = clientIdOf(input)
    process.stdout.write(describe(await withClients((clients) => clients.get(clientId))))
    return 0
  },
}

export const clientsRotateSecretCommand: Command = {
  summary: 'Give a confidential client a new secret (printed once); the old one stops working at once',
  usage: 'CLIENT_ID',
  async run(input) {
    const clientId = clientIdOf(input)
    const rotated = await withClients((clients) => clients.rotateSecret(null, clientId))
    process.stdout.write(
      `client_id: ${rotated.client_id}\nclient_secret: ${rotated.client_secret}\n(shown only now: store it safely)\n`,
    )
    return 0
  },
}

export const clientsDeleteCommand: Command = {
  summary: 'Delete an OpenID client',
  usage: 'CLIENT_ID',
  async run(input) {
    const clientId = clientIdOf(input)
    await withClients((clients) => clients.delete(null, clientId))
    process.stdout.write(`deleted client ${clientId}\n`)
    return 0
  },
}

export const clientsInitialTokenCommand: Command = {
  summary: 'Issue an initial access token for dynamic client registration at /oidc/reg (printed once)',
  usage: '[--ttl 1h]',
  help: [
    'Needs OIDC_DYNAMIC_REGISTRATION=true. An application registers itself (RFC 7591) by POSTing its',
    'metadata to /oidc/reg with "Authorization: Bearer <token>"; the token serves any number of',
    'registrations until it expires. Registered clients pass the same checks as `clients create`,',
    'are never first-party (they always ask for consent) and carry no permissions.',
    `--ttl: how long the token is good for, like 90s, 15m, 12h or 7d (default 1h, at most ${INITIAL_TOKEN_TTL.max / 86_400}d).`,
    '',
  ].join('\n'),
  options: { ttl: { type: 'string' } },
  async run({ values, positionals }) {
    if (positionals.length > 0) throw new CliError('takes no arguments', 2)
    const ttlText = text(values.ttl)
    const ttlSeconds = ttlText === undefined ? undefined : parseDurationSeconds(ttlText)
    if (
      ttlText !== undefined &&
      (ttlSeconds === undefined || ttlSeconds < INITIAL_TOKEN_TTL.min || ttlSeconds > INITIAL_TOKEN_TTL.max)
    )
      throw new CliError(
        `--ttl must be a duration like 90s, 15m, 12h or 7d, from ${INITIAL_TOKEN_TTL.min}s to ${INITIAL_TOKEN_TTL.max / 86_400}d`,
        2,
      )
    const config = loadConfig()
    if (!config.oidc.dynamicRegistration)
      throw new CliError(
        'dynamic client registration is off: set OIDC_DYNAMIC_REGISTRATION=true to issue initial access tokens',
        2,
      )
    const issued = await withClients((clients, kitsune) => {
      const { provider } = createEngine(kitsune, cookiePolicy(config.publicUrl))
      return clients.issueInitialAccessToken(null, { ttlSeconds, mint: initialAccessTokenMinter(provider) })
    }, config)
    process.stdout.write(
      `initial_access_token: ${issued.initial_access_token}\nexpires_at: ${issued.expires_at.toISOString()}\n(shown only now: register at ${new URL('/oidc/reg', config.publicUrl).href} with Authorization: Bearer <token>)\n`,
    )
    return 0
  },
}
