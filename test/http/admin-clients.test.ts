import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'clients-admin@example.com', password: 'admin password 1234' }
const WEB = { redirect_uris: ['https://app.example.com/callback'] }
const BASE64URL_SECRET = /^[A-Za-z0-9_-]{43}$/

type Client = Record<string, unknown> & { client_id: string; client_secret?: string }

describe.each(testTargets())('admin OpenID clients on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }
  let adminId: string

  const name = () => `app-${randomBytes(4).toString('hex')}`
  const create = (payload: Record<string, unknown>) =>
    t.inject({ method: 'POST', url: '/api/v1/admin/clients', headers: admin, payload })
  const created = async (payload: Record<string, unknown>): Promise<Client> => {
    const response = await create({ client_name: name(), ...payload })
    expect(response.statusCode).toBe(201)
    return response.json()
  }
  const get = (id: string) => t.inject({ method: 'GET', url: `/api/v1/admin/clients/${id}`, headers: admin })
  const patch = (id: string, payload: Record<string, unknown>) =>
    t.inject({ method: 'PATCH', url: `/api/v1/admin/clients/${id}`, headers: admin, payload })
  const rotate = (id: string) =>
    t.inject({ method: 'POST', url: `/api/v1/admin/clients/${id}/secret`, headers: admin })
  const remove = (id: string) =>
    t.inject({ method: 'DELETE', url: `/api/v1/admin/clients/${id}`, headers: admin })
  const stored = (id: string) =>
    t.kitsune.database.db
      .selectFrom('oidc_clients')
      .select([
        'client_secret_enc',
        'application_type',
        'id_token_signed_response_alg',
        'default_acr_values',
        'permissions',
      ])
      .where('client_id', '=', id)
      .executeTakeFirst()
  const engine = (id: string) => t.kitsune.services.clients.findForEngine(id)
  const auditOf = async (action: string, targetId: string) => {
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/audit-logs',
      query: { action, target_id: targetId },
      headers: admin,
    })
    expect(response.statusCode).toBe(200)
    return response.json().items as Array<Record<string, unknown>>
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
    adminId = (await t.inject({ method: 'GET', url: '/api/v1/users/me', headers: admin })).json().id
  })
  afterAll(async () => t?.close())

  it('registers a confidential web client: its secret once in the 201 answer, sealed at rest', async () => {
    const clientName = name()
    const response = await create({ client_name: clientName, ...WEB, scope: 'openid email profile' })
    expect(response.statusCode).toBe(201)
    const client = response.json() as Client
    expect(client).toMatchObject({
      client_name: clientName,
      redirect_uris: WEB.redirect_uris,
      post_logout_redirect_uris: [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email',
      first_party: false,
      backchannel_logout_uri: null,
      application_type: 'web',
      id_token_signed_response_alg: 'RS256',
      default_acr_values: [],
      permissions: [],
      created_by: adminId,
    })
    expect(client.client_id).toMatch(/^[A-Za-z0-9_-]{22,}$/)
    const secret = client.client_secret as string
    expect(secret).toMatch(BASE64URL_SECRET)

    const shown = await get(client.client_id)
    expect(shown.statusCode).toBe(200)
    expect(shown.json()).not.toHaveProperty('client_secret')
    expect(shown.body).not.toContain(secret)
    const listed = await t.inject({ method: 'GET', url: '/api/v1/admin/clients', headers: admin })
    expect(listed.json().items.map((c: Client) => c.client_id)).toContain(client.client_id)
    expect(listed.body).not.toContain(secret)
    for (const item of listed.json().items) expect(item).not.toHaveProperty('client_secret')

    const row = await stored(client.client_id)
    expect(row?.client_secret_enc).toBeTruthy()
    expect(row?.client_secret_enc).not.toContain(secret)
    expect(row).toMatchObject({
      application_type: 'web',
      id_token_signed_response_alg: 'RS256',
      default_acr_values: [],
      permissions: [],
    })
    const metadata = await engine(client.client_id)
    expect(metadata).toMatchObject({
      client_id: client.client_id,
      client_secret: secret,
      redirect_uris: WEB.redirect_uris,
      token_endpoint_auth_method: 'client_secret_basic',
      first_party: false,
      application_type: 'web',
      id_token_signed_response_alg: 'RS256',
      permissions: [],
    })
    // No default acr values registered: the engine is told none rather than an empty list.
    expect(metadata).not.toHaveProperty('default_acr_values')
    expect(t.logText()).not.toContain(secret)
  })

  it('registers a public native client (none) without any secret', async () => {
    const redirects = [
      'com.example.app:/callback',
      'http://127.0.0.1:8765/cb',
      'http://[::1]/cb',
      'http://localhost/cb',
    ]
    const client = await created({
      application_type: 'native',
      redirect_uris: redirects,
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'openid offline_access',
      first_party: true,
    })
    expect(client).not.toHaveProperty('client_secret')
    expect(client).toMatchObject({
      application_type: 'native',
      redirect_uris: redirects,
      token_endpoint_auth_method: 'none',
      first_party: true,
    })
    expect(await stored(client.client_id)).toMatchObject({
      client_secret_enc: null,
      application_type: 'native',
    })
    const metadata = await engine(client.client_id)
    expect(metadata).not.toHaveProperty('client_secret')
    expect(metadata).toMatchObject({
      application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token'],
      first_party: true,
    })
  })

  it('registers the ID token algorithm and default acr values, and hands them to the provider', async () => {
    const mfa = 'urn:kitsune:acr:mfa'
    const client = await created({
      ...WEB,
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: [mfa, mfa],
    })
    expect(client).toMatchObject({ id_token_signed_response_alg: 'EdDSA', default_acr_values: [mfa] })
    expect((await get(client.client_id)).json()).toMatchObject({
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: [mfa],
    })
    expect(await stored(client.client_id)).toMatchObject({
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: [mfa],
    })
    expect(await engine(client.client_id)).toMatchObject({
      application_type: 'web',
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: [mfa],
    })
  })

  it('registers a machine client (client_credentials): no redirect URIs, no response types, a secret', async () => {
    const client = await created({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    })
    expect(client).toMatchObject({
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      permissions: [],
    })
    expect(client.client_secret).toMatch(BASE64URL_SECRET)
    expect((await engine(client.client_id))?.client_secret).toBe(client.client_secret)
  })

  it('registers the permissions a machine client carries, stored, shown and handed to the provider', async () => {
    const client = await created({
      grant_types: ['client_credentials'],
      permissions: ['users:read', 'audit:read', 'users:read'],
    })
    expect(client.permissions).toEqual(['users:read', 'audit:read'])
    expect((await get(client.client_id)).json().permissions).toEqual(['users:read', 'audit:read'])
    expect((await stored(client.client_id))?.permissions).toEqual(['users:read', 'audit:read'])
    expect((await engine(client.client_id))?.permissions).toEqual(['users:read', 'audit:read'])
    const [entry] = await auditOf('client.created', client.client_id)
    expect(entry?.metadata).toMatchObject({ permissions: ['users:read', 'audit:read'] })
  })

  it('registers a private_key_jwt client with an https jwks_uri and no secret', async () => {
    const client = await created({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: 'https://service.example.com/jwks.json',
    })
    expect(client).not.toHaveProperty('client_secret')
    expect(await engine(client.client_id)).toMatchObject({
      jwks_uri: 'https://service.example.com/jwks.json',
    })
  })

  it('audits a creation with the administrator as actor and no secret in the entry', async () => {
    const client = await created(WEB)
    const [entry, ...others] = await auditOf('client.created', client.client_id)
    expect(others).toHaveLength(0)
    expect(entry).toMatchObject({
      actor_id: adminId,
      target_type: 'client',
      metadata: {
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        application_type: 'web',
      },
    })
    expect(entry?.metadata).not.toHaveProperty('permissions')
    expect(JSON.stringify(entry)).not.toContain(client.client_secret)
  })

  it('rotates a secret: the new one is shown once and is the only one the provider sees', async () => {
    const client = await created(WEB)
    const response = await rotate(client.client_id)
    expect(response.statusCode).toBe(200)
    const rotated = response.json() as { client_id: string; client_secret: string }
    expect(rotated.client_id).toBe(client.client_id)
    expect(rotated.client_secret).toMatch(BASE64URL_SECRET)
    expect(rotated.client_secret).not.toBe(client.client_secret)
    const metadata = await engine(client.client_id)
    expect(metadata?.client_secret).toBe(rotated.client_secret)
    expect(metadata?.client_secret).not.toBe(client.client_secret)
    expect((await get(client.client_id)).body).not.toContain(rotated.client_secret)
    expect(await auditOf('client.secret_rotated', client.client_id)).toHaveLength(1)
    expect(t.logText()).not.toContain(rotated.client_secret)
  })

  it('answers 409 to rotating the secret of a client that has none', async () => {
    const client = await created({ ...WEB, token_endpoint_auth_method: 'none' })
    const response = await rotate(client.client_id)
    expect(response.statusCode).toBe(409)
    expect((await stored(client.client_id))?.client_secret_enc).toBeNull()
    expect(await auditOf('client.secret_rotated', client.client_id)).toHaveLength(0)
  })

  it('updates metadata, re-checks every rule, and audits the fields changed', async () => {
    const client = await created(WEB)
    const response = await patch(client.client_id, {
      client_name: 'Renamed',
      redirect_uris: ['https://new.example.com/cb'],
      backchannel_logout_uri: 'https://new.example.com/logout',
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      client_name: 'Renamed',
      redirect_uris: ['https://new.example.com/cb'],
      backchannel_logout_uri: 'https://new.example.com/logout',
    })
    expect(response.json()).not.toHaveProperty('client_secret')
    const [entry] = await auditOf('client.updated', client.client_id)
    expect(entry?.metadata).toEqual({ fields: ['client_name', 'redirect_uris', 'backchannel_logout_uri'] })

    const refused = await patch(client.client_id, { redirect_uris: [] })
    expect(refused.statusCode).toBe(422)
    expect(refused.json().errors).toContainEqual(expect.objectContaining({ field: '/redirect_uris' }))
    expect((await get(client.client_id)).json().redirect_uris).toEqual(['https://new.example.com/cb'])
    expect(await auditOf('client.updated', client.client_id)).toHaveLength(1)
  })

  it('changes the new fields as a merge patch: what is left out stays, audited with the permissions given and taken', async () => {
    const mfa = 'urn:kitsune:acr:mfa'
    const client = await created({
      ...WEB,
      grant_types: ['authorization_code', 'client_credentials'],
      default_acr_values: [mfa],
      permissions: ['users:read'],
    })
    const response = await patch(client.client_id, {
      application_type: 'native',
      redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb'],
      id_token_signed_response_alg: 'EdDSA',
      permissions: ['roles:read', 'users:read'],
    })
    expect(response.statusCode).toBe(200)
    const expected = {
      application_type: 'native',
      redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb'],
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: [mfa],
      permissions: ['roles:read', 'users:read'],
    }
    expect(response.json()).toMatchObject(expected)
    expect(await stored(client.client_id)).toMatchObject({
      application_type: 'native',
      id_token_signed_response_alg: 'EdDSA',
      default_acr_values: [mfa],
      permissions: ['roles:read', 'users:read'],
    })
    expect(await engine(client.client_id)).toMatchObject(expected)
    const [entry] = await auditOf('client.updated', client.client_id)
    expect(entry?.metadata).toEqual({
      fields: ['application_type', 'redirect_uris', 'id_token_signed_response_alg', 'permissions'],
      permissions_added: ['roles:read'],
    })

    // Clearing: [] empties a list; the provider is then told no default acr values at all.
    const cleared = await patch(client.client_id, { default_acr_values: [], permissions: [] })
    expect(cleared.statusCode).toBe(200)
    expect(cleared.json()).toMatchObject({ default_acr_values: [], permissions: [] })
    expect(await engine(client.client_id)).not.toHaveProperty('default_acr_values')
    const entries = await auditOf('client.updated', client.client_id)
    expect(entries.map((e) => e.metadata)).toContainEqual({
      fields: ['default_acr_values', 'permissions'],
      permissions_removed: ['roles:read', 'users:read'],
    })
  })

  it('refuses to drop client_credentials while the client still carries permissions, or to make a native client web with a private-use URI', async () => {
    const machine = await created({
      grant_types: ['client_credentials'],
      permissions: ['users:read'],
    })
    const dropped = await patch(machine.client_id, {
      grant_types: ['authorization_code'],
      redirect_uris: WEB.redirect_uris,
    })
    expect(dropped.statusCode).toBe(422)
    expect(dropped.json().errors).toContainEqual(expect.objectContaining({ field: '/permissions' }))
    expect(await stored(machine.client_id)).toMatchObject({ permissions: ['users:read'] })
    // Both together are one valid change.
    const both = await patch(machine.client_id, {
      grant_types: ['authorization_code'],
      redirect_uris: WEB.redirect_uris,
      permissions: [],
    })
    expect(both.statusCode).toBe(200)

    const native = await created({ application_type: 'native', redirect_uris: ['com.example.app:/cb'] })
    const web = await patch(native.client_id, { application_type: 'web' })
    expect(web.statusCode).toBe(422)
    expect(web.json().errors).toContainEqual(expect.objectContaining({ field: '/redirect_uris/0' }))
    expect((await stored(native.client_id))?.application_type).toBe('native')
    expect(await auditOf('client.updated', native.client_id)).toHaveLength(0)
  })

  it('erases the secret when a confidential client becomes public, and refuses the reverse', async () => {
    const client = await created(WEB)
    expect((await patch(client.client_id, { token_endpoint_auth_method: 'none' })).statusCode).toBe(200)
    expect((await stored(client.client_id))?.client_secret_enc).toBeNull()
    expect(await engine(client.client_id)).not.toHaveProperty('client_secret')
    const back = await patch(client.client_id, { token_endpoint_auth_method: 'client_secret_basic' })
    expect(back.statusCode).toBe(422)
    expect(back.json().errors).toContainEqual(
      expect.objectContaining({ field: '/token_endpoint_auth_method' }),
    )
    expect((await get(client.client_id)).json().token_endpoint_auth_method).toBe('none')
  })

  it('deletes a client: 204, then 404, unknown to the provider, audited', async () => {
    const client = await created(WEB)
    expect((await remove(client.client_id)).statusCode).toBe(204)
    expect((await get(client.client_id)).statusCode).toBe(404)
    expect(await engine(client.client_id)).toBeUndefined()
    expect((await remove(client.client_id)).statusCode).toBe(404)
    expect(await auditOf('client.deleted', client.client_id)).toHaveLength(1)
  })

  it.each([
    ['GET', ''],
    ['PATCH', ''],
    ['POST', '/secret'],
    ['DELETE', ''],
  ] as const)('answers 404 to %s of an unknown client', async (method, suffix) => {
    const response = await t.inject({
      method,
      url: `/api/v1/admin/clients/${randomBytes(16).toString('base64url')}${suffix}`,
      headers: admin,
      ...(method === 'PATCH' ? { payload: { client_name: 'x' } } : {}),
    })
    expect(response.statusCode).toBe(404)
    expect(response.json().code).toBe('NOT_FOUND')
  })

  it('pages through every client newest first, each exactly once', async () => {
    for (let i = 0; i < 5; i++) await created(WEB)
    const everyone = (
      await t.kitsune.database.db.selectFrom('oidc_clients').select('client_id').execute()
    ).map((row) => row.client_id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query: Record<string, string> = { limit: '2', ...(cursor ? { cursor } : {}) }
      const response = await t.inject({ method: 'GET', url: '/api/v1/admin/clients', query, headers: admin })
      expect(response.statusCode).toBe(200)
      const page = response.json() as { items: Client[]; next_cursor: string | null }
      expect(page.items.length).toBeLessThanOrEqual(2)
      seen.push(...page.items.map((c) => c.client_id))
      cursor = page.next_cursor
    } while (cursor)
    expect([...seen].sort()).toEqual([...everyone].sort())
    expect(new Set(seen).size).toBe(seen.length)
    const first = await t.inject({ method: 'GET', url: '/api/v1/admin/clients', headers: admin })
    const times = (first.json().items as Array<{ created_at: string }>).map((c) => c.created_at)
    expect([...times].sort().reverse()).toEqual(times)
  })

  it('answers 422 naming the cursor for a forged one', async () => {
    const response = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/clients',
      query: { cursor: 'bm90LWEtY3Vyc29y' },
      headers: admin,
    })
    expect(response.statusCode).toBe(422)
    expect(response.json().errors).toContainEqual(expect.objectContaining({ field: '/query/cursor' }))
  })
})
