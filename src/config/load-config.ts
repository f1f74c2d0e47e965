import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { join, resolve } from 'node:path'
import { parseDurationSeconds } from '../lib/duration.js'
import type {
  Config,
  DatabaseConfig,
  Environment,
  JwtAlgorithm,
  NodeEnv,
  RateLimitName,
  RateLimitPolicy,
  WebAuthnConfig,
} from './config.schema.js'

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256']
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
/**
 * Defaults per IP. Password guessing is limited per account (login back-off), so the per-IP limits
 * stay loose enough for many people behind one office NAT, and tight enough against floods.
 */
const RATE_LIMIT_DEFAULTS: Record<RateLimitName, string> = {
  global: '1200/1m',
  login: '30/1m',
  register: '60/1h',
  refresh: '120/1m',
  forgot: '5/1h',
  mfa: '30/1m',
}
const PLACEHOLDER_SECRETS = new Set(['changeme', 'change-me', 'changethis', 'secret', 'please-change-me'])

export interface LoadConfigOptions {
  /** Read `.env` from the working directory (only when loading from process.env). */
  readonly readDotEnv?: boolean
  /** Whether stdout is a terminal (chooses the default log format). */
  readonly isTty?: boolean
  /**
   * Outside production, create `secret.key` in the data directory when SECRET_KEY is unset and the
   * file does not exist (default true). `kitsune doctor` says so instead: a key made up on the spot
   * would open nothing.
   */
  readonly createSecretKey?: boolean
}

/**
 * Reads every variable once, collects every problem, and returns a frozen typed config.
 * Throws ConfigError naming each bad variable; Kitsune never starts half-configured.
 */
export function loadConfig(env?: Environment, options: LoadConfigOptions = {}): Config {
  if (env === undefined) {
    if (options.readDotEnv !== false && existsSync('.env')) process.loadEnvFile('.env')
    env = process.env
  }
  const source = env
  const problems: string[] = []
  const get = (name: string): string | undefined => {
    const value = source[name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }

  const nodeEnvRaw = get('NODE_ENV') ?? 'development'
  const validNodeEnv = ['development', 'production', 'test'].includes(nodeEnvRaw)
  if (!validNodeEnv) problems.push('NODE_ENV must be development, production or test')
  const nodeEnv: NodeEnv = validNodeEnv ? (nodeEnvRaw as NodeEnv) : 'development'
  const production = nodeEnv === 'production'

  const bool = (name: string, fallback: boolean): boolean => {
    const value = get(name)?.toLowerCase()
    if (value === undefined) return fallback
    if (['true', '1', 'yes', 'on'].includes(value)) return true
    if (['false', '0', 'no', 'off'].includes(value)) return false
    problems.push(`${name} must be true or false`)
    return fallback
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = get(name)
    if (value === undefined) return fallback
    const parsed = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}`)
      return fallback
    }
    return parsed
  }
  const duration = (name: string, fallback: string): number => {
    const seconds = parseDurationSeconds(get(name) ?? fallback)
    if (seconds === undefined) {
      problems.push(`${name} must be a duration like 90s, 15m, 12h or 30d`)
      return parseDurationSeconds(fallback) ?? 0
    }
    return seconds
  }
  const url = (name: string, fallback: string | undefined, protocols: string[], hint: string) => {
    const value = get(name) ?? fallback
    if (value === undefined) return undefined
    try {
      const parsed = new URL(value)
      if (protocols.includes(parsed.protocol)) return value
    } catch {
      // reported below
    }
    problems.push(`${name} must be ${hint}`)
    return undefined
  }

  const dataDir = resolve(get('KITSUNE_DATA_DIR') ?? 'data')
  const host = get('HOST') ?? '127.0.0.1'
  const port = int('PORT', 8000, 0, 65_535)

  const database = parseDatabase(get('DATABASE_URL'), dataDir, problems)
  const poolMax = int('DATABASE_POOL_MAX', 10, 1, 1000)
  const redisUrl = url('REDIS_URL', undefined, ['redis:', 'rediss:'], 'redis://… or rediss://…')
  const listenUrl = defaultPublicUrl(host, port)
  const publicUrl = (
    url('PUBLIC_URL', listenUrl, ['http:', 'https:'], 'an http(s) URL') ?? listenUrl
  ).replace(/\/+$/, '')

  const algorithmRaw = get('JWT_ALGORITHM') ?? 'EdDSA'
  const algorithm = JWT_ALGORITHMS.find((a) => a.toLowerCase() === algorithmRaw.toLowerCase())
  if (!algorithm) problems.push(`JWT_ALGORITHM must be one of ${JWT_ALGORITHMS.join(', ')}`)
  const jwtSecret = get('JWT_SECRET')
  if (algorithm === 'HS256' && (jwtSecret === undefined || Buffer.byteLength(jwtSecret) < 32)) {
    problems.push('JWT_SECRET of at least 32 bytes is required when JWT_ALGORITHM=HS256')
  }

  let secretKey = get('SECRET_KEY')
  if (secretKey !== undefined) {
    if (PLACEHOLDER_SECRETS.has(secretKey.toLowerCase()))
      problems.push('SECRET_KEY is a placeholder: generate one')
    else if (Buffer.byteLength(secretKey) < 32) problems.push('SECRET_KEY must be at least 32 characters')
  } else if (production) {
    problems.push('SECRET_KEY is required when NODE_ENV=production')
  }

  const corsOrigins = (get('CORS_ORIGINS') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  if (corsOrigins.includes('*')) problems.push('CORS_ORIGINS may not be *')
  for (const origin of corsOrigins.filter((o) => o !== '*')) {
    if (!isExactOrigin(origin))
      problems.push(`CORS_ORIGINS entry ${origin} must be an exact origin like https://app.example.com`)
  }

  const rateLimit = (name: RateLimitName): RateLimitPolicy => {
    const variable = `RATE_LIMIT_${name.toUpperCase()}`
    const raw = get(variable) ?? RATE_LIMIT_DEFAULTS[name]
    const [count, window] = raw.split('/')
    const max = Number(count)
    const windowSeconds = window === undefined ? undefined : parseDurationSeconds(window)
    if (!Number.isInteger(max) || max < 1 || windowSeconds === undefined) {
      problems.push(`${variable} must look like 10/1m (requests per duration)`)
      return { max: 1, windowSeconds: 60 }
    }
    return { max, windowSeconds }
  }
  const rateLimits = Object.fromEntries(
    (Object.keys(RATE_LIMIT_DEFAULTS) as RateLimitName[]).map((name) => [name, rateLimit(name)]),
  ) as Record<RateLimitName, RateLimitPolicy>

  const trustProxy = parseTrustProxy(get('TRUST_PROXY'), problems)

  const adminEmail = get('ADMIN_EMAIL')
  const adminPassword = get('ADMIN_PASSWORD')
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together')
  }

  const logLevel = (get('LOG_LEVEL') ?? 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`)
  const logFormatRaw = get('LOG_FORMAT') ?? (options.isTty && !production ? 'pretty' : 'json')
  if (logFormatRaw !== 'json' && logFormatRaw !== 'pretty') problems.push('LOG_FORMAT must be json or pretty')

  const resources = (get('OIDC_RESOURCES') ?? '')
    .split(',')
    .map((resource) => resource.trim())
    .filter(Boolean)
  for (const resource of resources) {
    if (!isResourceIndicator(resource))
      problems.push(`OIDC_RESOURCES entry ${resource} must be an absolute http(s) URI without a fragment`)
  }
  const mfaMissing = get('OIDC_MFA_MISSING') ?? 'refuse'
  if (mfaMissing !== 'enrol' && mfaMissing !== 'refuse')
    problems.push('OIDC_MFA_MISSING must be enrol or refuse')
  const brandColor = get('BRAND_COLOR') ?? '#b43c0a'
  if (!/^#[0-9a-fA-F]{6}$/.test(brandColor)) problems.push('BRAND_COLOR must be a colour like #b43c0a')
  const brandLogo = url('BRAND_LOGO_URL', undefined, ['https:', 'http:'], 'an https:// URL of an image')
  const webauthn = parseWebAuthn(
    get('WEBAUTHN_RP_ID'),
    get('WEBAUTHN_ORIGINS'),
    get('WEBAUTHN_ALLOWED_AAGUIDS'),
    publicUrl,
    problems,
  )

  const config: Config = {
    nodeEnv,
    host,
    port,
    dataDir,
    database: { ...database, poolMax, logQueries: bool('DB_LOG_QUERIES', false) },
    redisUrl,
    redisKeyPrefix: get('REDIS_KEY_PREFIX') ?? 'kitsune:',
    publicUrl,
    secretKey: secretKey ?? '',
    jwt: {
      algorithm: algorithm ?? 'EdDSA',
      secret: jwtSecret,
      issuer: get('JWT_ISSUER') ?? publicUrl,
      audience: get('JWT_AUDIENCE') ?? 'kitsune',
      accessTokenTtlSeconds: duration('ACCESS_TOKEN_TTL', '15m'),
      refreshTokenTtlSeconds: duration('REFRESH_TOKEN_TTL', '30d'),
    },
    corsOrigins,
    trustProxy,
    rateLimitEnabled: bool('RATE_LIMIT_ENABLED', true),
    rateLimits,
    loginMaxFailuresPerHour: int('LOGIN_MAX_FAILURES_PER_HOUR', 50, 5, 100),
    // Never below OWASP's argon2id minimum (m=19456 KiB, t=2, p=1).
    argon2: {
      memoryCost: int('ARGON2_MEMORY_KIB', 19_456, 19_456, 4_194_304),
      timeCost: int('ARGON2_TIME_COST', 2, 2, 100),
      parallelism: int('ARGON2_PARALLELISM', 1, 1, 16),
    },
    smtpUrl: url('SMTP_URL', undefined, ['smtp:', 'smtps:'], 'smtp://user:pass@host:port or smtps://…'),
    mailFrom: get('MAIL_FROM') ?? 'Kitsune <no-reply@localhost>',
    passwordResetTtlSeconds: duration('PASSWORD_RESET_TTL', '1h'),
    emailVerificationTtlSeconds: duration('EMAIL_VERIFICATION_TTL', '48h'),
    requireEmailVerification: bool('REQUIRE_EMAIL_VERIFICATION', false),
    admin: adminEmail && adminPassword ? { email: adminEmail, password: adminPassword } : undefined,
    log: { level: logLevel, format: logFormatRaw === 'pretty' ? 'pretty' : 'json' },
    metricsEnabled: bool('METRICS_ENABLED', true),
    metricsPort: get('METRICS_PORT') === undefined ? undefined : int('METRICS_PORT', 9464, 1, 65_535),
    mfaIssuer: get('MFA_ISSUER') ?? 'Kitsune',
    auditRetentionDays:
      get('AUDIT_RETENTION_DAYS') === undefined ? undefined : int('AUDIT_RETENTION_DAYS', 0, 1, 36_500),
    oidc: {
      resources,
      mfaMissing: mfaMissing === 'enrol' ? 'enrol' : 'refuse',
      allowPrivateUris: bool('OIDC_ALLOW_PRIVATE_URIS', false),
      dynamicRegistration: bool('OIDC_DYNAMIC_REGISTRATION', false),
    },
    brand: {
      name: get('BRAND_NAME')?.trim() || 'Kitsune',
      logoUrl: brandLogo,
      color: brandColor.toLowerCase(),
    },
    webauthn,
    jobsEnabled: bool('JOBS_ENABLED', true),
    jobsLeaseSeconds:
      get('JOBS_LEASE_SECONDS') === undefined ? undefined : int('JOBS_LEASE_SECONDS', 60, 1, 3600),
    webhooksAllowPrivate: bool('WEBHOOKS_ALLOW_PRIVATE', false),
  }
  if (problems.length > 0) throw new ConfigError(problems)
  if (secretKey === undefined) {
    if (options.createSecretKey === false && !existsSync(join(dataDir, 'secret.key')))
      throw new ConfigError([
        `SECRET_KEY is not set and ${join(dataDir, 'secret.key')} does not exist: run from the service's directory, or set SECRET_KEY or KITSUNE_DATA_DIR`,
      ])
    secretKey = developmentSecretKey(dataDir)
  }
  return deepFreeze({ ...config, secretKey })
}

/**
 * Where Kitsune is reachable when PUBLIC_URL is unset: the port it listens on, on the address it
 * binds. A wildcard (every interface) or loopback address becomes `localhost`, which browsers treat
 * as a secure context and which passkeys accept (they refuse IP-address origins).
 */
function defaultPublicUrl(host: string, port: number): string {
  const local = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(host.toLowerCase())
  const name = local ? 'localhost' : isIP(host) === 6 ? `[${host}]` : host
  return `http://${name}:${port}`
}

function parseDatabase(raw: string | undefined, dataDir: string, problems: string[]) {
  const fallback: Omit<DatabaseConfig, 'poolMax' | 'logQueries'> = {
    kind: 'pglite',
    url: undefined,
    pgliteDataDir: join(dataDir, 'pglite'),
  }
  if (raw === undefined) return fallback
  if (raw === 'pglite://memory') return { kind: 'pglite' as const, url: undefined, pgliteDataDir: 'memory' }
  if (raw.startsWith('pglite://')) {
    if (raw.length === 'pglite://'.length) {
      problems.push('DATABASE_URL must be postgres://… or pglite://… (pglite:// needs a directory or memory)')
      return fallback
    }
    return { kind: 'pglite' as const, url: undefined, pgliteDataDir: resolve(raw.slice('pglite://'.length)) }
  }
  try {
    const parsed = new URL(raw)
    if (parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:') {
      return { kind: 'postgres' as const, url: raw, pgliteDataDir: undefined }
    }
  } catch {
    // reported below
  }
  problems.push('DATABASE_URL must be postgres://… or pglite://…')
  return fallback
}

/**
 * WebAuthn's relying party: a passkey is bound to the RP ID (a host name, never an IP address:
 * browsers refuse those) and answers only pages on origins whose host is that name or under it.
 */
function parseWebAuthn(
  rawRpId: string | undefined,
  rawOrigins: string | undefined,
  rawAaguids: string | undefined,
  publicUrl: string,
  problems: string[],
): WebAuthnConfig {
  let publicHost = 'localhost'
  let publicOrigin = 'http://localhost'
  try {
    const parsed = new URL(publicUrl)
    publicHost = parsed.hostname.replace(/^\[|\]$/g, '')
    publicOrigin = parsed.origin
  } catch {
    // PUBLIC_URL's own problem is reported where it is read
  }
  const rpId = (rawRpId ?? publicHost).trim().toLowerCase()
  if (rawRpId !== undefined && (!/^[a-z0-9.-]+$/.test(rpId) || rpId.startsWith('.') || rpId.endsWith('.')))
    problems.push('WEBAUTHN_RP_ID must be a host name such as example.com (no scheme, port or path)')
  const origins = (rawOrigins ?? publicOrigin)
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean)
  for (const origin of origins) {
    if (!isExactOrigin(origin)) {
      problems.push(`WEBAUTHN_ORIGINS entry ${origin} must be an origin such as https://app.example.com`)
      continue
    }
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '')
    if (host !== rpId && !host.endsWith(`.${rpId}`))
      problems.push(
        `WEBAUTHN_ORIGINS entry ${origin} is not on the passkey RP ID ${rpId} (WEBAUTHN_RP_ID) or a name under it`,
      )
  }
  const allowedAaguids = (rawAaguids ?? '')
    .split(',')
    .map((aaguid) => aaguid.trim().toLowerCase())
    .filter(Boolean)
  for (const aaguid of allowedAaguids) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(aaguid))
      problems.push(
        `WEBAUTHN_ALLOWED_AAGUIDS entry ${aaguid} must be an AAGUID like 08987058-cadc-4b81-b6e1-30de50dcbe96`,
      )
  }
  return { rpId, origins, allowedAaguids }
}

function parseTrustProxy(raw: string | undefined, problems: string[]): Config['trustProxy'] {
  if (raw === undefined || raw.toLowerCase() === 'false') return false
  if (raw.toLowerCase() === 'true') return true
  if (/^\d+$/.test(raw)) return Number(raw)
  const entries = raw.split(',').map((entry) => entry.trim())
  const valid = entries.every((entry) => {
    const [address, bits, ...rest] = entry.split('/')
    if (rest.length > 0 || !address || !isIP(address)) return false
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (isIP(address) === 4 ? 32 : 128))
  })
  if (!valid)
    problems.push('TRUST_PROXY must be true, false, a hop count, or a comma-separated list of IPs/CIDRs')
  return valid ? entries : false
}

function isExactOrigin(origin: string): boolean {
  try {
    const parsed = new URL(origin)
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === origin
  } catch {
    return false
  }
}

/** Outside production, a random SECRET_KEY is generated once into the data directory and reused. */
function developmentSecretKey(dataDir: string): string {
  const file = join(dataDir, 'secret.key')
  mkdirSync(dataDir, { recursive: true })
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' })
  } catch (error) {
    // Already there (or written by a process starting at the same moment): use it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  const key = readFileSync(file, 'utf8').trim()
  if (Buffer.byteLength(key) < 32)
    throw new ConfigError([`SECRET_KEY file ${file} is empty or too short: delete it or set SECRET_KEY`])
  return key
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

/** RFC 8707 section 2: an absolute URI without a fragment (Kitsune also wants http or https). */
function isResourceIndicator(value: string): boolean {
  try {
    const parsed = new URL(value)
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && !value.includes('#')
  } catch {
    return false
  }
}
