import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config/load-config.js'

const SECRET_KEY = 'a-real-secret-key-of-more-than-32-characters'

const tempDirs: string[] = []
function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kitsune-config-'))
  tempDirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A development environment that never touches ./data: the secret is generated into a temp dir. */
function devEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { NODE_ENV: 'development', KITSUNE_DATA_DIR: tempDataDir(), ...extra }
}

/** The ConfigError problems loadConfig throws for `env` (fails the test when it does not throw). */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).problems
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig defaults', () => {
  it('applies the documented defaults when only a data directory is given', () => {
    const dataDir = tempDataDir()
    const config = loadConfig({ KITSUNE_DATA_DIR: dataDir })
    expect(config).toMatchObject({
      nodeEnv: 'development',
      host: '127.0.0.1',
      port: 8000,
      dataDir,
      redisUrl: undefined,
      publicUrl: 'http://localhost:8000',
      corsOrigins: [],
      trustProxy: false,
      rateLimitEnabled: true,
      smtpUrl: undefined,
      admin: undefined,
      log: { level: 'info', format: 'json' },
      metricsEnabled: true,
    })
    expect(config.database).toEqual({
      kind: 'pglite',
      url: undefined,
      pgliteDataDir: join(dataDir, 'pglite'),
      poolMax: 10,
      logQueries: false,
    })
    expect(config.jwt).toEqual({
      algorithm: 'EdDSA',
      secret: undefined,
      issuer: 'http://localhost:8000',
      audience: 'kitsune',
      accessTokenTtlSeconds: 15 * 60,
      refreshTokenTtlSeconds: 30 * 86_400,
    })
  })

  it('defaults JWT_ISSUER to PUBLIC_URL without its trailing slash', () => {
    const config = loadConfig(devEnv({ PUBLIC_URL: 'https://auth.example.com/' }))
    expect(config.publicUrl).toBe('https://auth.example.com')
    expect(config.jwt.issuer).toBe('https://auth.example.com')
    expect(loadConfig(devEnv({ JWT_ISSUER: 'https://issuer.example.com' })).jwt.issuer).toBe(
      'https://issuer.example.com',
    )
  })

  it('picks pretty logs on a terminal outside production, json in production', () => {
    expect(loadConfig(devEnv(), { isTty: true }).log.format).toBe('pretty')
    expect(loadConfig({ NODE_ENV: 'production', SECRET_KEY }, { isTty: true }).log.format).toBe('json')
  })

  it('parses explicit values: postgres URL, durations, origins, proxies, HS256', () => {
    const config = loadConfig({
      SECRET_KEY,
      PORT: '9000',
      DATABASE_URL: 'postgres://kitsune@db:5432/kitsune',
      DATABASE_POOL_MAX: '25',
      JWT_ALGORITHM: 'HS256',
      JWT_SECRET: 'x'.repeat(32),
      ACCESS_TOKEN_TTL: '90s',
      REFRESH_TOKEN_TTL: '12h',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
      TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
    })
    expect(config.port).toBe(9000)
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgres://kitsune@db:5432/kitsune' })
    expect(config.database.poolMax).toBe(25)
    expect(config.jwt).toMatchObject({
      algorithm: 'HS256',
      accessTokenTtlSeconds: 90,
      refreshTokenTtlSeconds: 12 * 3600,
    })
    expect(config.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:3000'])
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.1'])
  })

  it.each([
    ['true', true],
    ['false', false],
    ['2', 2],
  ])('reads TRUST_PROXY=%s as %j', (raw, expected) => {
    expect(loadConfig({ SECRET_KEY, TRUST_PROXY: raw }).trustProxy).toEqual(expected)
  })

  it('reads pglite://memory as an in-memory database', () => {
    expect(loadConfig({ SECRET_KEY, DATABASE_URL: 'pglite://memory' }).database).toMatchObject({
      kind: 'pglite',
      pgliteDataDir: 'memory',
    })
  })

  it('returns a deeply frozen config', () => {
    const config = loadConfig({ SECRET_KEY, CORS_ORIGINS: 'https://app.example.com' })
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.database)).toBe(true)
    expect(Object.isFrozen(config.jwt)).toBe(true)
    expect(Object.isFrozen(config.corsOrigins)).toBe(true)
    expect(() => {
      ;(config as { port: number }).port = 1
    }).toThrow(TypeError)
    expect(() => {
      ;(config.jwt as { issuer: string }).issuer = 'evil'
    }).toThrow(TypeError)
  })
})

describe('loadConfig PUBLIC_URL default', () => {
  it('follows PORT when PUBLIC_URL is unset, and JWT_ISSUER follows it', () => {
    const config = loadConfig({ SECRET_KEY, PORT: '8799' })
    expect(config.publicUrl).toBe('http://localhost:8799')
    expect(config.jwt.issuer).toBe('http://localhost:8799')
  })

  it.each([
    ['0.0.0.0', 'http://localhost:8799'],
    ['::', 'http://localhost:8799'],
    ['127.0.0.1', 'http://localhost:8799'],
    ['::1', 'http://localhost:8799'],
    ['localhost', 'http://localhost:8799'],
    ['192.168.1.20', 'http://192.168.1.20:8799'],
    ['fd00::20', 'http://[fd00::20]:8799'],
    ['kitsune.internal', 'http://kitsune.internal:8799'],
  ])('with HOST=%s and PORT=8799 defaults PUBLIC_URL to %s', (host, expected) => {
    const config = loadConfig({ SECRET_KEY, HOST: host, PORT: '8799' })
    expect(config.publicUrl).toBe(expected)
    expect(new URL(config.publicUrl).port).toBe('8799')
  })

  it('keeps an explicit PUBLIC_URL whatever PORT and HOST say', () => {
    const config = loadConfig({
      SECRET_KEY,
      HOST: '0.0.0.0',
      PORT: '8799',
      PUBLIC_URL: 'https://auth.example.com',
    })
    expect(config.publicUrl).toBe('https://auth.example.com')
    expect(config.jwt.issuer).toBe('https://auth.example.com')
  })
})

describe('loadConfig development secret key', () => {
  it('generates SECRET_KEY into the data directory once and reuses it', () => {
    const dataDir = tempDataDir()
    const first = loadConfig({ KITSUNE_DATA_DIR: dataDir })
    const file = join(dataDir, 'secret.key')
    expect(first.secretKey.length).toBeGreaterThanOrEqual(32)
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secretKey)
    expect(statSync(file).mode & 0o777).toBe(0o600)

    const second = loadConfig({ KITSUNE_DATA_DIR: dataDir })
    expect(second.secretKey).toBe(first.secretKey)
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secretKey)
  })

  it('generates a different key for a different data directory', () => {
    const a = loadConfig({ KITSUNE_DATA_DIR: tempDataDir() })
    const b = loadConfig({ KITSUNE_DATA_DIR: tempDataDir() })
    expect(a.secretKey).not.toBe(b.secretKey)
  })

  it('writes no key file when SECRET_KEY is given', () => {
    const dataDir = tempDataDir()
    expect(loadConfig({ KITSUNE_DATA_DIR: dataDir, SECRET_KEY }).secretKey).toBe(SECRET_KEY)
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false)
  })

  it('writes no key file when the configuration is invalid', () => {
    const dataDir = tempDataDir()
    expect(() => loadConfig({ KITSUNE_DATA_DIR: dataDir, PORT: 'nope' })).toThrow(ConfigError)
    expect(existsSync(join(dataDir, 'secret.key'))).toBe(false)
  })
})

describe('loadConfig refuses bad values, naming the variable', () => {
  it.each([
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be postgres://… or pglite://…'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL must be postgres://… or pglite://…'],
    [{ CORS_ORIGINS: '*' }, 'CORS_ORIGINS may not be *'],
    [{ CORS_ORIGINS: 'https://ok.example.com,*' }, 'CORS_ORIGINS may not be *'],
    [{ NODE_ENV: 'production' }, 'SECRET_KEY is required when NODE_ENV=production'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV must be development, production or test'],
    [{ SECRET_KEY: 'too-short' }, 'SECRET_KEY must be at least 32 characters'],
    [{ JWT_ALGORITHM: 'none' }, 'JWT_ALGORITHM must be one of EdDSA, ES256, RS256, HS256'],
    [{ PORT: '70000' }, 'PORT must be an integer from 0 to 65535'],
    [{ PORT: 'http' }, 'PORT must be an integer from 0 to 65535'],
    [{ PORT: '-1' }, 'PORT must be an integer from 0 to 65535'],
    [{ DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX must be an integer from 1 to 1000'],
    [{ REDIS_URL: 'http://cache:6379' }, 'REDIS_URL must be redis://… or rediss://…'],
    [{ PUBLIC_URL: 'ftp://example.com' }, 'PUBLIC_URL must be an http(s) URL'],
    [{ RATE_LIMIT_ENABLED: 'maybe' }, 'RATE_LIMIT_ENABLED must be true or false'],
    [{ ADMIN_EMAIL: 'admin@example.com' }, 'ADMIN_EMAIL and ADMIN_PASSWORD must be set together'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of'],
  ])('refuses %j', (env, problem) => {
    const problems = problemsOf(devEnv(env))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toContain(problem)
  })

  it.each([
    ['without JWT_SECRET', {}],
    ['with a 31-byte JWT_SECRET', { JWT_SECRET: 'x'.repeat(31) }],
  ])('refuses HS256 %s', (_name, extra) => {
    expect(problemsOf(devEnv({ JWT_ALGORITHM: 'HS256', ...extra }))).toEqual([
      'JWT_SECRET of at least 32 bytes is required when JWT_ALGORITHM=HS256',
    ])
  })

  it.each(['15 minutes', '0s', '-5m', '1w', '1.5h'])('refuses the duration %j', (raw) => {
    expect(problemsOf(devEnv({ ACCESS_TOKEN_TTL: raw }))).toEqual([
      'ACCESS_TOKEN_TTL must be a duration like 90s, 15m, 12h or 30d',
    ])
    expect(problemsOf(devEnv({ REFRESH_TOKEN_TTL: raw }))).toEqual([
      'REFRESH_TOKEN_TTL must be a duration like 90s, 15m, 12h or 30d',
    ])
  })

  it.each(['banana', '10.0.0.0/33', '10.0.0.1/8/1', 'fe80::/129', '10.0.0.1,'])(
    'refuses TRUST_PROXY=%j',
    (raw) => {
      const problems = problemsOf(devEnv({ TRUST_PROXY: raw }))
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(/^TRUST_PROXY /)
    },
  )

  it('refuses a CORS origin with a path, naming the entry', () => {
    const problems = problemsOf(devEnv({ CORS_ORIGINS: 'https://app.example.com/login' }))
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^CORS_ORIGINS entry https:\/\/app\.example\.com\/login /)
  })

  it('lists every bad variable at once, one line each', () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: 'mysql://x',
      CORS_ORIGINS: '*',
      PORT: '99999',
      JWT_ALGORITHM: 'HS256',
      ACCESS_TOKEN_TTL: 'soon',
      TRUST_PROXY: 'everyone',
    }
    let thrown: unknown
    try {
      loadConfig(env)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    const { problems, message } = thrown as ConfigError
    const named = ['DATABASE_URL', 'CORS_ORIGINS', 'SECRET_KEY', 'PORT', 'JWT_SECRET', 'ACCESS_TOKEN_TTL']
    for (const variable of [...named, 'TRUST_PROXY']) {
      expect(problems.some((p) => p.startsWith(variable))).toBe(true)
    }
    expect(problems).toHaveLength(7)
    for (const problem of problems) expect(message).toContain(problem)
  })

  it('never puts the value of a secret in a problem', () => {
    const secret = 'short-secret-value'
    const problems = problemsOf(devEnv({ SECRET_KEY: secret, JWT_ALGORITHM: 'HS256', JWT_SECRET: secret }))
    expect(problems.join('\n')).not.toContain(secret)
  })
})

describe('loadConfig passkeys (WebAuthn)', () => {
  it('takes the RP ID and the one origin from PUBLIC_URL', () => {
    const config = loadConfig({ SECRET_KEY, PUBLIC_URL: 'https://auth.example.com/' })
    expect(config.webauthn).toEqual({
      rpId: 'auth.example.com',
      origins: ['https://auth.example.com'],
      allowedAaguids: [],
    })
  })

  it('lets applications on sibling origins use passkeys of a parent RP ID', () => {
    const config = loadConfig({
      SECRET_KEY,
      PUBLIC_URL: 'https://auth.example.com',
      WEBAUTHN_RP_ID: 'Example.com',
      WEBAUTHN_ORIGINS: 'https://auth.example.com, https://app.example.com',
      WEBAUTHN_ALLOWED_AAGUIDS: 'EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4',
    })
    expect(config.webauthn).toEqual({
      rpId: 'example.com',
      origins: ['https://auth.example.com', 'https://app.example.com'],
      allowedAaguids: ['ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4'],
    })
  })

  it('refuses an origin outside the RP ID, an RP ID with a scheme, and a malformed AAGUID, naming each', () => {
    const problems = problemsOf({
      SECRET_KEY,
      PUBLIC_URL: 'https://auth.example.com',
      WEBAUTHN_RP_ID: 'https://example.com',
      WEBAUTHN_ORIGINS: 'https://example.org,not-an-origin',
      WEBAUTHN_ALLOWED_AAGUIDS: 'yubikey',
    })
    expect(problems.some((p) => p.startsWith('WEBAUTHN_RP_ID must be a host name'))).toBe(true)
    expect(problems.some((p) => p.startsWith('WEBAUTHN_ORIGINS entry https://example.org is not on'))).toBe(
      true,
    )
    expect(problems.some((p) => p.startsWith('WEBAUTHN_ORIGINS entry not-an-origin must be an origin'))).toBe(
      true,
    )
    expect(problems.some((p) => p.startsWith('WEBAUTHN_ALLOWED_AAGUIDS entry yubikey'))).toBe(true)
    // WEBAUTHN_ORIGINS alone must stay on PUBLIC_URL's host name.
    expect(
      problemsOf({
        SECRET_KEY,
        PUBLIC_URL: 'https://auth.example.com',
        WEBAUTHN_ORIGINS: 'https://app.example.com',
      }),
    ).toEqual([
      'WEBAUTHN_ORIGINS entry https://app.example.com is not on the passkey RP ID auth.example.com (WEBAUTHN_RP_ID) or a name under it',
    ])
  })
})
