import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliEnv, cliTargets, killAllCli, runCli } from '../helpers/cli-process.js'
import { bearer, login, registerUser } from '../helpers/factories.js'
import {
  browser,
  discover,
  type OidcTestServer,
  redeemCode,
  startAuthorization,
  startOidcServer,
} from '../helpers/oidc.js'
import { pgliteTarget, testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'dcr-admin@example.com', password: 'admin password 1234' }
const REDIRECT = 'http://127.0.0.1:9/callback'
const ON = { OIDC_DYNAMIC_REGISTRATION: 'true', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password }

afterAll(() => killAllCli())

/** POST /oidc/reg, as an application registering itself (RFC 7591). */
async function register(issuer: string, metadata: Record<string, unknown>, token?: string) {
  const response = await fetch(`${issuer}/oidc/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? bearer(token) : {}) },
    body: JSON.stringify(metadata),
  })
  const text = await response.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    // an answer that is not JSON (a plain 404)
  }
  return { status: response.status, body }
}

async function issueToken(t: OidcTestServer, adminToken: string, payload: Record<string, unknown> = {}) {
  return t.inject({
    method: 'POST',
    url: '/api/v1/admin/clients/initial-tokens',
    headers: bearer(adminToken),
    payload,
  })
}

const clientCount = async (t: OidcTestServer) =>
  Number(
    (
      await t.kitsune.database.db
        .selectFrom('oidc_clients')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

const auditOf = (t: OidcTestServer, action: string) =>
  t.kitsune.database.db
    .selectFrom('audit_logs')
    .select(['actor_id', 'target_type', 'target_id', 'metadata', 'ip', 'request_id'])
    .where('action', '=', action)
    .execute()

describe.each(testTargets())('dynamic client registration off ($name)', (target) => {
  let t: OidcTestServer
  let adminToken: string
  beforeAll(async () => {
    t = await startOidcServer(target, { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password })
    adminToken = (await login(t, ADMIN)).access_token
  })
  afterAll(async () => t?.close())

  it('has no registration endpoint: discovery leaves it out and /oidc/reg answers an error', async () => {
    const discovery = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json()
    expect(discovery.registration_endpoint).toBeUndefined()
    const answer = await register(t.issuer, { client_name: 'App', redirect_uris: [REDIRECT] }, 'anything')
    expect(answer.status).toBeGreaterThanOrEqual(400)
    expect(answer.status).toBeLessThan(500)
    expect(answer.body.client_id).toBeUndefined()
    expect(await clientCount(t)).toBe(0)
  })

  it('refuses to issue an initial access token through the admin API (409 problem)', async () => {
    const response = await issueToken(t, adminToken)
    expect(response.statusCode).toBe(409)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({ code: 'DYNAMIC_REGISTRATION_OFF', status: 409 })
    expect(response.json().detail).toContain('OIDC_DYNAMIC_REGISTRATION')
    expect(await auditOf(t, 'client.initial_token_issued')).toHaveLength(0)
  })
})

describe.each(testTargets())('dynamic client registration on ($name)', (target) => {
  let t: OidcTestServer
  let adminToken: string
  let token: string
  beforeAll(async () => {
    t = await startOidcServer(target, ON)
    adminToken = (await login(t, ADMIN)).access_token
    const issued = await issueToken(t, adminToken)
    expect(issued.statusCode).toBe(201)
    token = issued.json().initial_access_token
  })
  afterAll(async () => t?.close())

  it('publishes the registration endpoint', async () => {
    const discovery = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json()
    expect(discovery.registration_endpoint).toBe(`${t.issuer}/oidc/reg`)
  })

  it('refuses a registration without an initial access token, or with an unknown one (401 invalid_token)', async () => {
    const metadata = { client_name: 'App', redirect_uris: [REDIRECT] }
    for (const answer of [
      await register(t.issuer, metadata),
      await register(t.issuer, metadata, 'not-a-token-kitsune-issued'),
    ]) {
      expect(answer.status).toBe(401)
      expect(answer.body.error).toBe('invalid_token')
    }
    expect(await clientCount(t)).toBe(0)
  })

  it('issues initial access tokens to administrators only, audited, never logged', async () => {
    const before = Date.now()
    const response = await issueToken(t, adminToken, { ttl_seconds: 600 })
    expect(response.statusCode).toBe(201)
    const body = response.json()
    expect(body.initial_access_token).toEqual(expect.any(String))
    const expiresAt = new Date(body.expires_at).getTime()
    expect(expiresAt).toBeGreaterThanOrEqual(before + 600_000 - 2000)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000 + 2000)

    const entries = await auditOf(t, 'client.initial_token_issued')
    expect(entries).toHaveLength(2)
    const admin = await t.kitsune.database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', ADMIN.email)
      .executeTakeFirstOrThrow()
    const entry = entries.find((e) => (e.metadata as { ttl_seconds?: number }).ttl_seconds === 600)
    expect(entry).toMatchObject({
      actor_id: admin.id,
      metadata: { expires_at: new Date(expiresAt).toISOString() },
    })
    expect(JSON.stringify(entries)).not.toContain(body.initial_access_token)
    expect(t.logText()).not.toContain(body.initial_access_token)

    const user = await registerUser(t)
    const plain = await issueToken(t, (await login(t, user)).access_token)
    expect(plain.statusCode).toBe(403)
    for (const ttl_seconds of [10, 31 * 86_400, 'soon'])
      expect((await issueToken(t, adminToken, { ttl_seconds })).statusCode).toBe(422)
  })

  it('registers a confidential client (201), stored sealed, third party, audited as dynamic', async () => {
    const answer = await register(
      t.issuer,
      { client_name: 'Registered App', redirect_uris: [REDIRECT], scope: 'openid email' },
      token,
    )
    expect(answer.status).toBe(201)
    const clientId = answer.body.client_id as string
    const clientSecret = answer.body.client_secret as string
    expect(clientId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // Management is off: no registration access token to read, change or delete the client with.
    expect(answer.body.registration_access_token).toBeUndefined()
    expect(answer.body.registration_client_uri).toBeUndefined()

    const row = await t.kitsune.database.db
      .selectFrom('oidc_clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirstOrThrow()
    expect(row).toMatchObject({
      client_name: 'Registered App',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid email',
      first_party: false,
      permissions: [],
      created_by: null,
    })
    expect(row.client_secret_enc).toBeTruthy()
    expect(row.client_secret_enc).not.toContain(clientSecret)

    const [entry, ...more] = (await auditOf(t, 'client.created')).filter((e) => e.target_id === clientId)
    expect(more).toHaveLength(0)
    expect(entry).toMatchObject({
      actor_id: null,
      target_type: 'client',
      metadata: { dynamic: true, client_name: 'Registered App', first_party: false },
      ip: '127.0.0.1',
    })
    expect(entry?.request_id).toBeTruthy()
    expect(JSON.stringify(entry)).not.toContain(clientSecret)
    expect(t.logText()).not.toContain(clientSecret)

    // The client signs a person in with openid-client, and is shown the consent page.
    const user = await registerUser(t)
    const config = await discover(t.issuer, clientId, clientSecret)
    const pending = await startAuthorization(config, { redirect_uri: REDIRECT, scope: 'openid email' })
    const b = browser(t.issuer)
    let page = await b.open(pending.url.href)
    page = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
    expect(page.url).toContain('/ui/consent')
    expect(page.html).toContain('Registered App')
    page = await b.submit(page, '/ui/consent', { decision: 'allow' })
    expect(page.redirectedTo).toContain('code=')
    const tokens = await redeemCode(config, new URL(page.redirectedTo as string), pending)
    expect(tokens.claims()?.sub).toBe(user.id)
    expect(tokens.claims()?.aud).toBe(clientId)
  })

  it('registers a public native client without a secret', async () => {
    const answer = await register(
      t.issuer,
      {
        client_name: 'Desktop',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['com.example.desktop:/cb', 'http://127.0.0.1/cb'],
      },
      token,
    )
    expect(answer.status).toBe(201)
    expect(answer.body.client_secret).toBeUndefined()
    const row = await t.kitsune.services.clients.get(answer.body.client_id as string)
    expect(row).toMatchObject({ application_type: 'native', token_endpoint_auth_method: 'none' })
  })

  // RFC 7591 section 3.2.2: invalid_redirect_uri for a redirect URI, invalid_client_metadata otherwise.
  const machine = { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] }
  it.each([
    ['the implicit grant', { grant_types: ['implicit'] }, 'grant_types', 'invalid_client_metadata'],
    [
      'an http redirect URI off loopback',
      { redirect_uris: ['http://app.example.com/cb'] },
      'redirect_uris/0 must use https',
      'invalid_redirect_uri',
    ],
    ['first-party status', { first_party: true }, 'first_party', 'invalid_client_metadata'],
    ['permissions', { ...machine, permissions: ['users:read'] }, 'permissions', 'invalid_client_metadata'],
    [
      'metadata Kitsune does not keep',
      { logo_uri: 'https://app.example.com/logo.png' },
      'logo_uri',
      'invalid_client_metadata',
    ],
    ['a scope Kitsune does not know', { scope: 'openid payments' }, 'scope', 'invalid_client_metadata'],
    ['no client name', { client_name: undefined }, 'client_name', 'invalid_client_metadata'],
    [
      'a public client_credentials client',
      { ...machine, token_endpoint_auth_method: 'none' },
      'grant_types',
      'invalid_client_metadata',
    ],
  ])('refuses %s (400) and stores nothing', async (_name, metadata, problem, error) => {
    const before = await clientCount(t)
    const created = (await auditOf(t, 'client.created')).length
    const answer = await register(
      t.issuer,
      { client_name: 'Refused', redirect_uris: ['https://app.example.com/cb'], ...metadata },
      token,
    )
    expect(answer.status).toBe(400)
    expect(answer.body.error, JSON.stringify(answer.body)).toBe(error)
    expect(String(answer.body.error_description)).toContain(problem)
    expect(await clientCount(t)).toBe(before)
    expect(await auditOf(t, 'client.created')).toHaveLength(created)
  })
})

describe.each(cliTargets)('kitsune clients initial-token on $name', (cliTarget) => {
  let dir: string
  let url: string
  let drop: () => Promise<void>
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-dcr-'))
    const database = await cliTarget.provision(dir)
    url = database.url
    drop = database.drop
  })
  afterAll(async () => {
    killAllCli()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('is listed in the usage, with its options', async () => {
    const usage = await runCli(['--help'], cliEnv(dir))
    expect(usage.stdout).toContain('kitsune clients initial-token ')
    const help = await runCli(['clients', 'initial-token', '--help'], cliEnv(dir))
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: kitsune clients initial-token [--ttl 1h]')
  })

  it('refuses when OIDC_DYNAMIC_REGISTRATION is off (exit 2)', async () => {
    const result = await runCli(['clients', 'initial-token'], cliEnv(dir, { DATABASE_URL: url }))
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('OIDC_DYNAMIC_REGISTRATION')
  })

  it('refuses a malformed --ttl (exit 2)', async () => {
    const env = cliEnv(dir, { DATABASE_URL: url, OIDC_DYNAMIC_REGISTRATION: 'true' })
    for (const ttl of ['soon', '10s', '90d']) {
      const result = await runCli(['clients', 'initial-token', '--ttl', ttl], env)
      expect(result.code).toBe(2)
      expect(result.stderr).toContain('ttl')
    }
  })

  it('prints a token that registers a client, audited with no actor', async () => {
    const result = await runCli(
      ['clients', 'initial-token', '--ttl', '2h'],
      cliEnv(dir, { DATABASE_URL: url, OIDC_DYNAMIC_REGISTRATION: 'true' }),
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const token = result.stdout.match(/^initial_access_token: (\S+)$/m)?.[1] as string
    expect(token).toBeTruthy()
    const expiresAt = new Date(result.stdout.match(/^expires_at: (\S+)$/m)?.[1] as string).getTime()
    expect(Math.abs(expiresAt - (Date.now() + 7200_000))).toBeLessThan(60_000)

    // The same database, now served (a PGlite directory belongs to one process at a time).
    const t = await startOidcServer(
      pgliteTarget,
      { OIDC_DYNAMIC_REGISTRATION: 'true' },
      { env: { DATABASE_URL: url }, drop: async () => {} },
    )
    try {
      const answer = await register(
        t.issuer,
        { client_name: 'From CLI token', redirect_uris: [REDIRECT] },
        token,
      )
      expect(answer.status).toBe(201)
      expect(answer.body.client_secret).toEqual(expect.any(String))
      const issued = await auditOf(t, 'client.initial_token_issued')
      expect(issued).toHaveLength(1)
      expect(issued[0]).toMatchObject({ actor_id: null, metadata: { ttl_seconds: 7200 } })
      expect(JSON.stringify(issued)).not.toContain(token)
    } finally {
      await t.close()
    }
  })
})
