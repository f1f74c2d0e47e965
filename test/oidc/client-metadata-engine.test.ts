import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClientMetadataInput } from '../../src/auth/client-metadata.js'
import { createSecretBox } from '../../src/auth/secret-box.js'
import { systemClock } from '../../src/lib/clock.js'
import { createEngine } from '../../src/oidc/provider.js'
import { createOidcClientService } from '../../src/services/oidc-client.service.js'
import { cookiePolicy } from '../../src/web/csrf.js'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.js'
import { testTargets } from '../helpers/test-targets.js'

/**
 * What the registry hands over is what oidc-provider accepts: each client below is loaded through
 * the engine's own Client model (its metadata schema), as the authorization and token endpoints do.
 */
describe.each(testTargets())('registered client metadata in the OpenID Provider on $name', (target) => {
  let t: TestApp
  let provider: ReturnType<typeof createEngine>['provider']

  const register = async (metadata: ClientMetadataInput) =>
    (await t.kitsune.services.clients.create(null, { client_name: 'Engine app', ...metadata })).client_id
  const load = async (clientId: string) => {
    const client = await provider.Client.find(clientId)
    if (!client) throw new Error(`the engine does not know ${clientId}`)
    return client
  }

  beforeAll(async () => {
    // JWT_ALGORITHM EdDSA (the default) gives Kitsune EdDSA and RS256 keys.
    t = await buildTestApp({ target, env: { JWT_ALGORITHM: 'EdDSA' } })
    provider = createEngine(t.kitsune, cookiePolicy('http://kitsune.test')).provider
  })
  afterAll(async () => t?.close())

  it('loads a web client with the defaults: RS256 ID tokens, no default acr, exact redirect URIs', async () => {
    const client = await load(await register({ redirect_uris: ['http://127.0.0.1:9/cb'] }))
    expect(client.applicationType).toBe('web')
    expect(client.idTokenSignedResponseAlg).toBe('RS256')
    expect(client.defaultAcrValues).toBeUndefined()
    expect(client.redirectUriAllowed('http://127.0.0.1:9/cb')).toBe(true)
    expect(client.redirectUriAllowed('http://127.0.0.1:51234/cb')).toBe(false)
  })

  it('loads a native client: private-use scheme, and loopback redirect URIs on any port (RFC 8252 section 7.3)', async () => {
    const client = await load(
      await register({
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['com.example.app:/cb', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb'],
        post_logout_redirect_uris: ['com.example.app:/bye'],
      }),
    )
    expect(client.applicationType).toBe('native')
    expect(client.redirectUriAllowed('com.example.app:/cb')).toBe(true)
    expect(client.redirectUriAllowed('http://127.0.0.1:51234/cb')).toBe(true)
    expect(client.redirectUriAllowed('http://[::1]:9999/cb')).toBe(true)
    expect(client.redirectUriAllowed('http://127.0.0.1:51234/other')).toBe(false)
    expect(client.postLogoutRedirectUriAllowed('com.example.app:/bye')).toBe(true)
  })

  it('loads the ID token algorithm and the default acr values', async () => {
    const client = await load(
      await register({
        redirect_uris: ['https://app.example.com/cb'],
        id_token_signed_response_alg: 'EdDSA',
        default_acr_values: ['urn:kitsune:acr:mfa'],
      }),
    )
    expect(client.idTokenSignedResponseAlg).toBe('EdDSA')
    expect(client.defaultAcrValues).toEqual(['urn:kitsune:acr:mfa'])
  })

  it('loads a machine client that carries permissions', async () => {
    const clientId = await register({ grant_types: ['client_credentials'], permissions: ['users:read'] })
    const client = await load(clientId)
    expect(client.grantTypeAllowed('client_credentials')).toBe(true)
    expect((await t.kitsune.services.clients.findForEngine(clientId))?.permissions).toEqual(['users:read'])
  })

  it('refuses, given the algorithms Kitsune holds keys for, an ID token algorithm without a key', async () => {
    const clients = createOidcClientService({
      uow: t.kitsune.uow,
      secretBox: createSecretBox(TEST_SECRET_KEY),
      audit: t.kitsune.services.audit,
      clock: systemClock,
      idTokenAlgorithms: t.kitsune.services.keys.algorithms,
    })
    await expect(
      clients.create(null, {
        client_name: 'No key',
        redirect_uris: ['https://app.example.com/cb'],
        id_token_signed_response_alg: 'ES256',
      }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [expect.objectContaining({ field: '/id_token_signed_response_alg' })],
    })
    const accepted = await clients.create(null, {
      client_name: 'EdDSA',
      redirect_uris: ['https://app.example.com/cb'],
      id_token_signed_response_alg: 'EdDSA',
      token_endpoint_auth_method: 'none',
    })
    expect(accepted.id_token_signed_response_alg).toBe('EdDSA')
  })
})
