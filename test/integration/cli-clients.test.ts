import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import { cliEnv, cliTargets, killAllCli, runCli } from '../helpers/cli-process.js'

const COMMANDS = ['clients create', 'clients list', 'clients show', 'clients rotate-secret', 'clients delete']
const REDIRECT = 'https://app.example.com/callback'

afterAll(() => killAllCli())

/** `key: value` lines of a command's output. */
const field = (stdout: string, key: string) => stdout.match(new RegExp(`^${key}: (\\S+)$`, 'm'))?.[1]

describe('kitsune clients usage', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-clients-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('lists every clients command in the usage', async () => {
    const result = await runCli(['--help'], cliEnv(dir))
    expect(result.code).toBe(0)
    for (const command of COMMANDS) expect(result.stdout).toContain(`kitsune ${command} `)
  })

  it.each(COMMANDS)('prints the options of "%s --help" and exits 0', async (command) => {
    const result = await runCli([...command.split(' '), '--help'], cliEnv(dir))
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Usage: kitsune ${command}`)
  })

  it('documents the metadata options of "clients create"', async () => {
    const result = await runCli(['clients', 'create', '--help'], cliEnv(dir))
    for (const option of ['--application-type', '--id-token-alg', '--acr', '--permission'])
      expect(result.stdout).toContain(option)
  })
})

describe.each(cliTargets)('kitsune clients on $name', (target) => {
  let dir: string
  let env: Record<string, string>
  let drop: () => Promise<void>

  /** Opens the database only between CLI runs: a PGlite directory belongs to one process at a time. */
  async function withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
    const database = await createDatabase(loadConfig(env).database, { info() {}, error() {} })
    try {
      return await work(database)
    } finally {
      await database.close()
    }
  }
  const row = (clientId: string) =>
    withDatabase(({ db }) =>
      db
        .selectFrom('oidc_clients')
        .select([
          'client_name',
          'grant_types',
          'token_endpoint_auth_method',
          'client_secret_enc',
          'created_by',
          'application_type',
          'id_token_signed_response_alg',
          'default_acr_values',
          'permissions',
        ])
        .where('client_id', '=', clientId)
        .executeTakeFirst(),
    )
  const audited = (action: string, clientId: string) =>
    withDatabase(({ db }) =>
      db
        .selectFrom('audit_logs')
        .select(['actor_id', 'target_type', 'metadata'])
        .where('action', '=', action)
        .where('target_id', '=', clientId)
        .execute(),
    )

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-clients-'))
    const database = await target.provision(dir)
    drop = database.drop
    env = cliEnv(dir, { DATABASE_URL: database.url })
  })
  afterAll(async () => {
    killAllCli()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  let webId: string
  let webSecret: string

  it('create registers a confidential client, prints its id and secret once, audited with no actor', async () => {
    const result = await runCli(
      [
        'clients',
        'create',
        '--name',
        'Web app',
        '--redirect-uri',
        REDIRECT,
        '--grant',
        'authorization_code',
        '--grant',
        'refresh_token',
        '--scope',
        'openid offline_access',
      ],
      env,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    webId = field(result.stdout, 'client_id') as string
    webSecret = field(result.stdout, 'client_secret') as string
    expect(webId).toMatch(/^[A-Za-z0-9_-]{22,}$/)
    expect(webSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const stored = await row(webId)
    expect(stored).toMatchObject({
      client_name: 'Web app',
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      created_by: null,
      application_type: 'web',
      id_token_signed_response_alg: 'RS256',
      default_acr_values: [],
      permissions: [],
    })
    expect(stored?.client_secret_enc).toBeTruthy()
    expect(stored?.client_secret_enc).not.toContain(webSecret)
    const entries = await audited('client.created', webId)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ actor_id: null, target_type: 'client' })
    expect(JSON.stringify(entries)).not.toContain(webSecret)
  })

  it('create --public --application-type native registers a native client without a secret', async () => {
    const result = await runCli(
      [
        'clients',
        'create',
        '--name',
        'Native',
        '--public',
        '--first-party',
        '--application-type',
        'native',
        '--redirect-uri',
        'com.example.app:/cb',
        '--redirect-uri',
        'http://127.0.0.1/cb',
        '--id-token-alg',
        'EdDSA',
        '--acr',
        'urn:kitsune:acr:pwd,urn:kitsune:acr:mfa',
      ],
      env,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const clientId = field(result.stdout, 'client_id') as string
    expect(result.stdout).not.toContain('client_secret')
    expect(await row(clientId)).toMatchObject({
      token_endpoint_auth_method: 'none',
      client_secret_enc: null,
      application_type: 'native',
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: ['urn:kitsune:acr:pwd', 'urn:kitsune:acr:mfa'],
    })
    const show = await runCli(['clients', 'show', clientId], env)
    expect(show.code).toBe(0)
    expect(field(show.stdout, 'application_type')).toBe('native')
    expect(field(show.stdout, 'id_token_signed_response_alg')).toBe('EdDSA')
    expect(show.stdout).toContain('default_acr_values: urn:kitsune:acr:pwd urn:kitsune:acr:mfa\n')
  })

  it('create --permission registers a machine client carrying permissions, audited', async () => {
    const result = await runCli(
      [
        'clients',
        'create',
        '--name',
        'Billing job',
        '--grant',
        'client_credentials',
        '--permission',
        'users:read',
        '--permission',
        'audit:read',
        '--acr',
        'urn:kitsune:acr:mfa',
        '--acr',
        'urn:kitsune:acr:pwd',
      ],
      env,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const clientId = field(result.stdout, 'client_id') as string
    expect(await row(clientId)).toMatchObject({
      grant_types: ['client_credentials'],
      permissions: ['users:read', 'audit:read'],
      default_acr_values: ['urn:kitsune:acr:mfa', 'urn:kitsune:acr:pwd'],
    })
    const [entry] = await audited('client.created', clientId)
    expect(entry?.metadata).toMatchObject({ permissions: ['users:read', 'audit:read'] })
    const show = await runCli(['clients', 'show', clientId], env)
    expect(show.stdout).toContain('permissions: users:read audit:read\n')
  })

  it.each([
    [
      'a private-use redirect URI on a web client',
      ['--redirect-uri', 'com.example.app:/cb'],
      'redirect_uris/0',
    ],
    [
      'an unknown application type',
      ['--application-type', 'desktop', '--redirect-uri', REDIRECT],
      'application_type',
    ],
    [
      'an unsupported ID token algorithm',
      ['--id-token-alg', 'HS256', '--redirect-uri', REDIRECT],
      'id_token_signed_response_alg',
    ],
    [
      'an unknown acr value',
      ['--acr', 'urn:kitsune:acr:pwd,gold', '--redirect-uri', REDIRECT],
      'default_acr_values/1',
    ],
    [
      'permissions without client_credentials',
      ['--permission', 'users:read', '--redirect-uri', REDIRECT],
      'permissions',
    ],
    [
      'an unknown permission',
      ['--grant', 'client_credentials', '--permission', 'users:read', '--permission', 'root'],
      'permissions/1',
    ],
  ])('create exits 2 naming the field for %s, and registers nothing', async (_label, args, pointer) => {
    const count = () =>
      withDatabase(
        async ({ db }) => (await db.selectFrom('oidc_clients').select('client_id').execute()).length,
      )
    const before = await count()
    const result = await runCli(['clients', 'create', '--name', 'Bad', ...args], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`${pointer} `)
    expect(await count()).toBe(before)
  })

  it('create exits 2 naming the field for a bad redirect URI, and registers nothing', async () => {
    const count = () =>
      withDatabase(
        async ({ db }) => (await db.selectFrom('oidc_clients').select('client_id').execute()).length,
      )
    const before = await count()
    const result = await runCli(
      ['clients', 'create', '--name', 'Bad', '--redirect-uri', 'http://evil.example/cb'],
      env,
    )
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('redirect_uris/0')
    expect(await count()).toBe(before)
  })

  it('create exits 2 without --name', async () => {
    const result = await runCli(['clients', 'create', '--redirect-uri', REDIRECT], env)
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('--name is required')
  })

  it('list and show print the metadata, never the secret', async () => {
    const list = await runCli(['clients', 'list'], env)
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(`${webId}\tWeb app\tclient_secret_basic\tauthorization_code,refresh_token`)
    expect(list.stdout).not.toContain(webSecret)
    const show = await runCli(['clients', 'show', webId], env)
    expect(show.code).toBe(0)
    expect(field(show.stdout, 'redirect_uris')).toBe(REDIRECT)
    expect(field(show.stdout, 'application_type')).toBe('web')
    expect(field(show.stdout, 'id_token_signed_response_alg')).toBe('RS256')
    expect(show.stdout).toContain('default_acr_values: \n')
    expect(show.stdout).toContain('permissions: \n')
    expect(show.stdout).not.toContain(webSecret)
    expect(show.stdout).not.toContain('client_secret:')
  })

  it('rotate-secret prints a new secret and audits it', async () => {
    const result = await runCli(['clients', 'rotate-secret', webId], env)
    expect(result.code).toBe(0)
    const secret = field(result.stdout, 'client_secret')
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(secret).not.toBe(webSecret)
    expect(await audited('client.secret_rotated', webId)).toEqual([
      expect.objectContaining({ actor_id: null }),
    ])
  })

  it('delete removes the client; show then exits 1', async () => {
    const result = await runCli(['clients', 'delete', webId], env)
    expect(result.code).toBe(0)
    expect(await row(webId)).toBeUndefined()
    expect(await audited('client.deleted', webId)).toHaveLength(1)
    const show = await runCli(['clients', 'show', webId], env)
    expect(show.code).toBe(1)
    expect(show.stderr).toContain('not found')
    expect((await runCli(['clients', 'list'], env)).stdout).not.toContain(webId)
  })
})
