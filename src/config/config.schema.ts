/** The typed, validated configuration every other module receives. Built only by load-config.ts. */
export type JwtAlgorithm = 'EdDSA' | 'ES256' | 'RS256' | 'HS256'
export type NodeEnv = 'development' | 'production' | 'test'

export interface DatabaseConfig {
  /** `postgres` for a server, `pglite` for the embedded database. */
  readonly kind: 'postgres' | 'pglite'
  /** The postgres:// URL (kind postgres). */
  readonly url: string | undefined
  /** PGlite data directory, or `memory` for a throwaway database (kind pglite). */
  readonly pgliteDataDir: string | undefined
  readonly poolMax: number
  readonly logQueries: boolean
}

export interface JwtConfig {
  readonly algorithm: JwtAlgorithm
  /** Shared secret, only for HS256. */
  readonly secret: string | undefined
  readonly issuer: string
  readonly audience: string
  readonly accessTokenTtlSeconds: number
  readonly refreshTokenTtlSeconds: number
}

export interface RateLimitPolicy {
  readonly max: number
  readonly windowSeconds: number
}

/** Per-IP request limits by name; `global` applies to every route except health checks. */
export type RateLimitName = 'global' | 'login' | 'register' | 'refresh' | 'forgot' | 'mfa'

export interface Config {
  readonly nodeEnv: NodeEnv
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly database: DatabaseConfig
  readonly redisUrl: string | undefined
  /** Prefix of every Redis key, so instances of different deployments can share a server. */
  readonly redisKeyPrefix: string
  /** PUBLIC_URL; unset, `http://localhost:<PORT>`, or `http://<HOST>:<PORT>` for a specific, non-loopback HOST. */
  readonly publicUrl: string
  readonly secretKey: string
  readonly jwt: JwtConfig
  readonly corsOrigins: readonly string[]
  /** As Fastify's `trustProxy`: false, true, a hop count, or a list of addresses/CIDRs. */
  readonly trustProxy: boolean | number | readonly string[]
  readonly rateLimitEnabled: boolean
  readonly rateLimits: Readonly<Record<RateLimitName, RateLimitPolicy>>
  /** Wrong passwords one account may take per hour, from every IP together, before it waits out the hour. */
  readonly loginMaxFailuresPerHour: number
  /** argon2id cost; raising it re-hashes each password at its owner's next login. */
  readonly argon2: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number }
  readonly smtpUrl: string | undefined
  readonly passwordResetTtlSeconds: number
  readonly emailVerificationTtlSeconds: number
  /** Unverified accounts cannot log in (403 after the password checked out). */
  readonly requireEmailVerification: boolean
  readonly mailFrom: string
  readonly admin: { readonly email: string; readonly password: string } | undefined
  readonly log: { readonly level: string; readonly format: 'json' | 'pretty' }
  readonly metricsEnabled: boolean
  /** Serve /metrics on this port only (not on the public listener); undefined serves it on PORT. */
  readonly metricsPort: number | undefined
  /** Issuer shown in authenticator apps. */
  readonly mfaIssuer: string
  /** Audit entries older than this many days may be pruned (`kitsune audit prune`); undefined keeps all. */
  readonly auditRetentionDays: number | undefined
  readonly oidc: OidcConfig
  readonly brand: BrandConfig
  readonly webauthn: WebAuthnConfig
  /** JOBS_ENABLED: this instance runs queued jobs (e-mail, webhook deliveries). */
  readonly jobsEnabled: boolean
  /**
   * JOBS_LEASE_SECONDS: how long an instance holds a job it claimed; a job whose instance died runs
   * again elsewhere after it. Unset: each kind's own (60 s for e-mail and webhooks).
   */
  readonly jobsLeaseSeconds: number | undefined
  /** WEBHOOKS_ALLOW_PRIVATE: webhook targets may be loopback, private or link-local addresses. */
  readonly webhooksAllowPrivate: boolean
}

/** Passkeys (WebAuthn): the relying party they are bound to and the pages allowed to use them. */
export interface WebAuthnConfig {
  /** WEBAUTHN_RP_ID: PUBLIC_URL's host name unless set; a passkey works only under this name. */
  readonly rpId: string
  /** WEBAUTHN_ORIGINS: PUBLIC_URL's origin unless set; each one's host is rpId or under it. */
  readonly origins: readonly string[]
  /** WEBAUTHN_ALLOWED_AAGUIDS: when set, only authenticators of these models may be registered. */
  readonly allowedAaguids: readonly string[]
}

export interface OidcConfig {
  /** RFC 8707 resource indicators clients may ask access tokens for (JWT, audience = resource). */
  readonly resources: readonly string[]
  /**
   * When a client demands a second factor (acr_values) from an account that has none: `enrol` asks
   * the person to set one up there and then, `refuse` answers the client access_denied.
   */
  readonly mfaMissing: 'enrol' | 'refuse'
  /** Let the engine's outgoing requests (back-channel logout, client JWKS) reach private addresses. */
  readonly allowPrivateUris: boolean
  /**
   * OIDC_DYNAMIC_REGISTRATION: RFC 7591 registration at /oidc/reg, each request carrying an initial
   * access token an administrator issued (`kitsune clients initial-token`, or the admin API).
   */
  readonly dynamicRegistration: boolean
}

export interface BrandConfig {
  readonly name: string
  readonly logoUrl: string | undefined
  /** A #rrggbb accent colour. */
  readonly color: string
}

/** Every variable Kitsune reads, with its default, as documented in README.md. */
export const CONFIG_VARIABLES = [
  'NODE_ENV',
  'HOST',
  'PORT',
  'KITSUNE_DATA_DIR',
  'DATABASE_URL',
  'DATABASE_POOL_MAX',
  'DB_LOG_QUERIES',
  'REDIS_URL',
  'REDIS_KEY_PREFIX',
  'PUBLIC_URL',
  'SECRET_KEY',
  'JWT_ALGORITHM',
  'JWT_SECRET',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'ACCESS_TOKEN_TTL',
  'REFRESH_TOKEN_TTL',
  'CORS_ORIGINS',
  'TRUST_PROXY',
  'RATE_LIMIT_ENABLED',
  'RATE_LIMIT_GLOBAL',
  'RATE_LIMIT_LOGIN',
  'RATE_LIMIT_REGISTER',
  'RATE_LIMIT_REFRESH',
  'RATE_LIMIT_FORGOT',
  'RATE_LIMIT_MFA',
  'LOGIN_MAX_FAILURES_PER_HOUR',
  'ARGON2_MEMORY_KIB',
  'ARGON2_TIME_COST',
  'ARGON2_PARALLELISM',
  'SMTP_URL',
  'MAIL_FROM',
  'PASSWORD_RESET_TTL',
  'EMAIL_VERIFICATION_TTL',
  'REQUIRE_EMAIL_VERIFICATION',
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'METRICS_ENABLED',
  'METRICS_PORT',
  'MFA_ISSUER',
  'AUDIT_RETENTION_DAYS',
  'OIDC_RESOURCES',
  'OIDC_MFA_MISSING',
  'OIDC_ALLOW_PRIVATE_URIS',
  'OIDC_DYNAMIC_REGISTRATION',
  'BRAND_NAME',
  'BRAND_LOGO_URL',
  'BRAND_COLOR',
  'WEBAUTHN_RP_ID',
  'WEBAUTHN_ORIGINS',
  'WEBAUTHN_ALLOWED_AAGUIDS',
  'JOBS_ENABLED',
  'JOBS_LEASE_SECONDS',
  'WEBHOOKS_ALLOW_PRIVATE',
] as const

export type ConfigVariable = (typeof CONFIG_VARIABLES)[number]
export type Environment = Readonly<Partial<Record<string, string | undefined>>>
