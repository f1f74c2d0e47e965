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
    ['a private-use scheme (RFC 8252)', 'com.example.app:/oauth2redirect'],
    ['http on localhost with a port', 'http://localhost:5173/callback'],
    ['http on 127.0.0.1', 'http://127.0.0.1/callback'],
    ['http on [::1]', 'http://[::1]:8080/callback'],
    ['https with a query', 'https://app.example.com/cb?tenant=a'],
  ])('accepts %s as a redirect URI', async (_label, uri) => {
    const response = await createAs(admin, { client_name: 'Accepted', redirect_uris: [uri] })
    expect(response.statusCode).toBe(201)
    expect(response.json().redirect_uris).toEqual([uri])
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

  it('lets clients:write register a client', async () => {
    const writer = await holderOf(['clients:write'])
    const response = await createAs(writer, { client_name: 'Written', ...WEB })
    expect(response.statusCode).toBe(201)
    expect(response.json().client_secret).toBeTruthy()
  })
})
