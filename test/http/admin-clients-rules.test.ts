import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerAndLogin } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'clients-rules-admin@example.com', password: 'admin password 1234' }
const WEB = { redirect_uris: ['https://app.example.com/callback'] }

/** Each registration rule, a body breaking only it, and the field the 422 must name. */
const REFUSALS: Array<[string, Record<string, unknown>, string]> = [
  ['no redirect URI for authorization_code', {}, '/redirect_uris'],
  ['a relative redirect URI', { redirect_uris: ['/callback'] }, '/redirect_uris/0'],
  [
    'a redirect URI with a fragment',
    { redirect_uris: ['https://app.example.com/cb#top'] },
    '/redirect_uris/0',
  ],
  ['plain http off loopback', { redirect_uris: ['http://app.example.com/cb'] }, '/redirect_uris/0'],
  ['a javascript: redirect URI', { redirect_uris: ['javascript:alert(1)'] }, '/redirect_uris/0'],
  ['a redirect URI with spaces', { redirect_uris: ['https://app.example.com/a b'] }, '/redirect_uris/0'],
  [
    'a second bad redirect URI',
    { redirect_uris: ['https://app.example.com/cb', 'http://evil.example/cb'] },
    '/redirect_uris/1',
  ],
  [
    'a post-logout URI with a fragment',
    { ...WEB, post_logout_redirect_uris: ['https://app.example.com/#x'] },
    '/post_logout_redirect_uris/0',
  ],
  ['the implicit grant', { ...WEB, grant_types: ['implicit'] }, '/grant_types/0'],
  ['the password grant', { ...WEB, grant_types: ['password'] }, '/grant_types/0'],
  ['no grant at all', { ...WEB, grant_types: [] }, '/grant_types'],
  ['refresh_token alone', { grant_types: ['refresh_token'] }, '/grant_types'],
  ['an implicit response type', { ...WEB, response_types: ['code', 'id_token'] }, '/response_types/1'],
  [
    'response types on a client that never redirects',
    { grant_types: ['client_credentials'], response_types: ['code'] },
    '/response_types',
  ],
  [
    'client_credentials on a public client',
    { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' },
    '/grant_types',
  ],
  [
    'an unsupported auth method',
    { ...WEB, token_endpoint_auth_method: 'client_secret_jwt' },
    '/token_endpoint_auth_method',
  ],
  [
    'private_key_jwt without jwks_uri',
    { ...WEB, token_endpoint_auth_method: 'private_key_jwt' },
    '/jwks_uri',
  ],
  [
    'private_key_jwt with an http jwks_uri',
    { ...WEB, token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://127.0.0.1/jwks' },
    '/jwks_uri',
  ],
  ['an unknown scope', { ...WEB, scope: 'openid admin' }, '/scope'],
  ['an empty scope', { ...WEB, scope: ' ' }, '/scope'],
  [
    'a back-channel logout URI over http',
    { ...WEB, backchannel_logout_uri: 'http://app.example.com/bc' },
    '/backchannel_logout_uri',
  ],
  ['a blank name', { ...WEB, client_name: '   ' }, '/client_name'],
  [
    'a private-use scheme on a web client',
    { redirect_uris: ['https://app.example.com/cb', 'com.example.app:/cb'] },
    '/redirect_uris/1',
  ],
  [
    'a private-use post-logout URI on a web client',
    { ...WEB, post_logout_redirect_uris: ['com.example.app:/bye'] },
    '/post_logout_redirect_uris/0',
  ],
  [
    'https on a loopback address for a native client',
    { application_type: 'native', redirect_uris: ['https://127.0.0.1/cb'] },
    '/redirect_uris/0',
  ],
  [
    'a javascript: redirect URI on a native client',
    { application_type: 'native', redirect_uris: ['javascript:alert(1)'] },
    '/redirect_uris/0',
  ],
  ['an unknown application type', { ...WEB, application_type: 'browser' }, '/application_type'],
  ['HS256 ID tokens', { ...WEB, id_token_signed_response_alg: 'HS256' }, '/id_token_signed_response_alg'],
  ['unsigned ID tokens', { ...WEB, id_token_signed_response_alg: 'none' }, '/id_token_signed_response_alg'],
  [
    'an acr value Kitsune does not assert',
    { ...WEB, default_acr_values: ['urn:kitsune:acr:mfa', 'urn:mace:incommon:iap:silver'] },
    '/default_acr_values/1',
  ],
  [
    'permissions without the client_credentials grant',
    { ...WEB, permissions: ['users:read'] },
    '/permissions',
  ],
  [
    'an unknown permission',
    { grant_types: ['client_credentials'], permissions: ['users:read', 'users:impersonate'] },
    '/permissions/1',
  ],
  [
    'a role name given as a permission',
    { grant_types: ['client_credentials'], permissions: ['admin'] },
    '/permissions/0',
  ],
  ['a secret chosen by the caller', { ...WEB, client_secret: 'my own secret' }, '/client_secret'],
]

describe.each(testTargets())('admin OpenID client rules and permissions on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }

  const count = async () =>
    Number(
      (
        await t.kitsune.database.db
          .selectFrom('oidc_clients')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  const createAs = (headers: Record<string, string>, payload: Record<string, unknown>) =>
    t.inject({ method: 'POST', url: '/api/v1/admin/clients', headers, payload })
  /** A fresh user whose only extra role grants exactly `permissions`. */
  const holderOf = async (permissions: string[]) => {
    const role = `clients-${randomBytes(4).toString('hex')}`
    const made = await t.inject({
      method: 'POST',
      url: '/api/v1/admin/roles',
      headers: admin,
      payload: { name: role, permissions },
    })
    expect(made.statusCode).toBe(201)
    const { user, tokens } = await registerAndLogin(t)
    const assigned = await t.inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/roles`,
      headers: admin,
      payload: { roles: ['user', role] },
    })
    expect(assigned.statusCode).toBe(200)
    return bearer(tokens.access_token)
  }

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => t?.close())

  it.each(REFUSALS)('answers 422 for %s, naming the field, writing nothing', async (_label, body, field) => {
    const before = await count()
    const response = await createAs(admin, { client_name: 'Refused', ...body })
    expect(response.statusCode).toBe(422)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().code).toBe('VALIDATION_FAILED')
    expect(response.json().errors).toContainEqual(expect.objectContaining({ field }))
    expect(await count()).toBe(before)
  })

  it.each([
    ['a private-use scheme (RFC 8252) for a native client', 'com.example.app:/oauth2redirect', 'native'],
    ['http on 127.0.0.1 for a native client', 'http://127.0.0.1/callback', 'native'],
    ['http on [::1] with a port for a native client', 'http://[::1]:8080/callback', 'native'],
    ['a claimed https URI for a native client', 'https://app.example.com/callback', 'native'],
    ['http on localhost with a port for a web client (development)', 'http://localhost:5173/callback', 'web'],
    ['http on 127.0.0.1 for a web client (development)', 'http://127.0.0.1/callback', 'web'],
    ['http on [::1] with a port for a web client', 'http://[::1]:8080/callback', 'web'],
    ['https with a query', 'https://app.example.com/cb?tenant=a', 'web'],
  ])('accepts %s as a redirect URI', async (_label, uri, applicationType) => {
    const response = await createAs(admin, {
      client_name: 'Accepted',
      redirect_uris: [uri],
      ...(applicationType === 'web' ? {} : { application_type: applicationType }),
    })
    expect(response.statusCode).toBe(201)
    expect(response.json()).toMatchObject({ redirect_uris: [uri], application_type: applicationType })
  })

  it('names every refused redirect URI and the reason, pointing web clients at application_type', async () => {
    const response = await createAs(admin, {
      client_name: 'Refused',
      redirect_uris: ['com.example.app:/cb', 'https://app.example.com/cb', 'com.example.other:/cb'],
    })
    expect(response.statusCode).toBe(422)
    const errors = response.json().errors as Array<{ field: string; message: string }>
    expect(errors.map((e) => e.field)).toEqual(['/redirect_uris/0', '/redirect_uris/2'])
    for (const error of errors) expect(error.message).toContain('native')
  })

  it('documents the secret in the 201 and rotation answers only', async () => {
    const paths = (await t.inject({ method: 'GET', url: '/openapi.json' })).json().paths
    const answer = (path: string, method: string, status: string) =>
      (paths[path] ?? paths[`${path}/`])[method].responses[status].content['application/json'].schema
    const propertiesOf = (schema: { properties?: object; items?: { properties?: object } }) =>
      Object.keys(schema.properties ?? {})
    expect(propertiesOf(answer('/api/v1/admin/clients', 'post', '201'))).toContain('client_secret')
    expect(propertiesOf(answer('/api/v1/admin/clients/{id}/secret', 'post', '200'))).toContain(
      'client_secret',
    )
    expect(propertiesOf(answer('/api/v1/admin/clients/{id}', 'get', '200'))).not.toContain('client_secret')
    expect(propertiesOf(answer('/api/v1/admin/clients/{id}', 'patch', '200'))).not.toContain('client_secret')
    const page = answer('/api/v1/admin/clients', 'get', '200')
    expect(Object.keys(page.properties.items.items.properties)).not.toContain('client_secret')
    expect(paths['/api/v1/admin/clients/{id}'].get.responses).toHaveProperty('4XX')

    const added = ['application_type', 'id_token_signed_response_alg', 'default_acr_values', 'permissions']
    for (const schema of [
      answer('/api/v1/admin/clients', 'post', '201'),
      answer('/api/v1/admin/clients/{id}', 'get', '200'),
      answer('/api/v1/admin/clients/{id}', 'patch', '200'),
      page.properties.items.items,
    ])
      expect(propertiesOf(schema)).toEqual(expect.arrayContaining(added))
    const body = (path: string, method: string) =>
      (paths[path] ?? paths[`${path}/`])[method].requestBody.content['application/json'].schema
    for (const schema of [body('/api/v1/admin/clients', 'post'), body('/api/v1/admin/clients/{id}', 'patch')])
      expect(propertiesOf(schema)).toEqual(expect.arrayContaining(added))
  })

  it('gives a machine client that gains authorization_code the code response type', async () => {
    const made = await createAs(admin, { client_name: 'Machine', grant_types: ['client_credentials'] })
    expect(made.json().response_types).toEqual([])
    const response = await t.inject({
      method: 'PATCH',
      url: `/api/v1/admin/clients/${made.json().client_id}`,
      headers: admin,
      payload: {
        grant_types: ['authorization_code', 'client_credentials'],
        redirect_uris: WEB.redirect_uris,
      },
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      grant_types: ['authorization_code', 'client_credentials'],
      response_types: ['code'],
    })
  })

  it('answers 401 without a token and 403 to a user without a clients permission', async () => {
    const anonymous = await t.inject({ method: 'GET', url: '/api/v1/admin/clients' })
    expect(anonymous.statusCode).toBe(401)
    const { tokens } = await registerAndLogin(t)
    const user = bearer(tokens.access_token)
    expect((await t.inject({ method: 'GET', url: '/api/v1/admin/clients', headers: user })).statusCode).toBe(
      403,
    )
    expect((await createAs(user, { client_name: 'Nope', ...WEB })).statusCode).toBe(403)
  })

  it('lets clients:read list and read, but not create, change, rotate or delete', async () => {
    const reader = await holderOf(['clients:read'])
    const made = await createAs(admin, { client_name: 'Read me', ...WEB })
    const id = made.json().client_id as string
    const base = '/api/v1/admin/clients'
    expect((await t.inject({ method: 'GET', url: base, headers: reader })).statusCode).toBe(200)
    expect((await t.inject({ method: 'GET', url: `${base}/${id}`, headers: reader })).statusCode).toBe(200)
    const before = await count()
    expect((await createAs(reader, { client_name: 'Nope', ...WEB })).statusCode).toBe(403)
    expect(await count()).toBe(before)
    const changed = await t.inject({
      method: 'PATCH',
      url: `${base}/${id}`,
      headers: reader,
      payload: { client_name: 'x' },
    })
    expect(changed.statusCode).toBe(403)
    expect(
      (await t.inject({ method: 'POST', url: `${base}/${id}/secret`, headers: reader })).statusCode,
    ).toBe(403)
    expect((await t.inject({ method: 'DELETE', url: `${base}/${id}`, headers: reader })).statusCode).toBe(403)
    const after = await t.inject({ method: 'GET', url: `${base}/${id}`, headers: admin })
    expect(after.json().client_name).toBe('Read me')
    expect((await t.kitsune.services.clients.findForEngine(id))?.client_secret).toBe(
      made.json().client_secret,
    )
  })

  it('lets clients:write give a client only the permissions its holder has, and take any away', async () => {
    const writer = await holderOf(['clients:write', 'users:read'])
    const machine = { client_name: 'Machine', grant_types: ['client_credentials'] }
    const before = await count()
    const refused = await createAs(writer, { ...machine, permissions: ['users:read', 'users:delete'] })
    expect(refused.statusCode).toBe(403)
    expect(refused.json().detail).toContain('users:delete')
    expect(refused.json().detail).not.toContain('users:read')
    expect(await count()).toBe(before)

    const allowed = await createAs(writer, { ...machine, permissions: ['users:read'] })
    expect(allowed.statusCode).toBe(201)
    expect(allowed.json().permissions).toEqual(['users:read'])
    const id = allowed.json().client_id as string
    const url = `/api/v1/admin/clients/${id}`
    const escalate = await t.inject({
      method: 'PATCH',
      url,
      headers: writer,
      payload: { permissions: ['users:read', 'clients:read'] },
    })
    expect(escalate.statusCode).toBe(403)

    // An administrator gives one the writer lacks; the writer may still rename the client (its
    // permissions unchanged) and take that permission away.
    const given = await t.inject({
      method: 'PATCH',
      url,
      headers: admin,
      payload: { permissions: ['users:read', 'users:delete'] },
    })
    expect(given.statusCode).toBe(200)
    const renamed = await t.inject({ method: 'PATCH', url, headers: writer, payload: { client_name: 'M2' } })
    expect(renamed.statusCode).toBe(200)
    const taken = await t.inject({ method: 'PATCH', url, headers: writer, payload: { permissions: [] } })
    expect(taken.statusCode).toBe(200)
    expect(taken.json().permissions).toEqual([])
  })

  it('lets clients:write register a client', async () => {
    const writer = await holderOf(['clients:write'])
    const response = await createAs(writer, { client_name: 'Written', ...WEB })
    expect(response.statusCode).toBe(201)
    expect(response.json().client_secret).toBeTruthy()
  })
})
