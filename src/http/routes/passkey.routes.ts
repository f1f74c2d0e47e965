import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import type { Kitsune } from '../../kitsune.js'
import type { KitsuneApp } from '../app-types.js'
import { contextOf, principalOf } from '../plugins/authenticate.js'
import { problemResponses } from '../schemas/common.schemas.js'
import {
  PasskeyAuthOptionsBody,
  PasskeyDeleteBody,
  PasskeyList,
  PasskeyParams,
  PasskeyRegisterBody,
  PasskeyRegistrationOptionsBody,
  PasskeyRenameBody,
  PasskeyVerifyBody,
  WebAuthnOptions,
} from '../schemas/passkey.schemas.js'
import { Type } from '../schemas/type.js'

const security = [{ bearer: [] }]

/** Passwordless sign-in, and the passkey second factor, for applications with their own UI. */
export async function passkeyAuthRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { passkeys, auth } = kitsune.services
  const tags = ['auth']

  app.post('/options', {
    config: { rateLimit: 'login' },
    schema: {
      tags,
      summary: 'Options for a passkey sign-in (navigator.credentials.get)',
      description:
        'Without a body: a passwordless sign-in with any passkey of this site (discoverable credentials, user verification required). With `mfa_token` from a login that answered `mfa_required`: the second factor, naming that account’s passkeys. The challenge is single-use and lives 5 minutes.',
      body: PasskeyAuthOptionsBody,
      response: { 200: WebAuthnOptions, ...problemResponses },
    },
    handler: async (request) => passkeys.authenticationOptions({ mfaToken: request.body?.mfa_token }),
  })

  app.post('/verify', {
    config: { rateLimit: 'login' },
    schema: {
      tags,
      summary: 'Sign in with a passkey: a token pair',
      description:
        'The answer of navigator.credentials.get() (as JSON) to the options above, with the same `mfa_token` when it is the second factor. Refusals are 401 invalid-passkey and audited.',
      body: PasskeyVerifyBody,
      response: { 200: Type.Ref('TokenPair'), ...problemResponses },
    },
    handler: async (request) => {
      const ctx = contextOf(request)
      const assertion = await passkeys.authenticate(
        {
          credential: request.body.credential as unknown as AuthenticationResponseJSON,
          mfaToken: request.body.mfa_token,
        },
        ctx,
      )
      return auth.openSession(assertion.userId, ctx, 'passkey')
    },
  })
}

/** The signed-in user's passkeys. */
export async function myPasskeyRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { passkeys } = kitsune.services
  const tags = ['me']
  const config = { auth: true }

  app.get('/', {
    config,
    schema: {
      tags,
      security,
      summary: 'List my passkeys',
      response: { 200: PasskeyList, ...problemResponses },
    },
    handler: async (request) => ({ items: await passkeys.list(principalOf(request).userId) }),
  })

  app.post('/options', {
    config: { ...config, rateLimit: 'mfa' },
    schema: {
      tags,
      security,
      summary: 'Start adding a passkey: options for navigator.credentials.create (password required)',
      description:
        'Resident key and user verification required, attestation `none` (or `direct` when WEBAUTHN_ALLOWED_AAGUIDS is set), 5-minute single-use challenge bound to this session.',
      body: PasskeyRegistrationOptionsBody,
      response: { 200: WebAuthnOptions, ...problemResponses },
    },
    handler: async (request) => {
      const principal = principalOf(request)
      await passkeys.confirmPassword(principal.userId, request.body.password)
      return passkeys.registrationOptions(principal)
    },
  })

  app.post('/', {
    config: { ...config, rateLimit: 'mfa' },
    schema: {
      tags,
      security,
      summary: 'Finish adding a passkey',
      description:
        'The answer of navigator.credentials.create() (as JSON) to the options above. The first second factor of an account turns two-step verification on.',
      body: PasskeyRegisterBody,
      response: { 201: Type.Ref('PasskeyPublic'), ...problemResponses },
    },
    handler: async (request, reply) => {
      const created = await passkeys.register(
        principalOf(request),
        {
          credential: request.body.credential as unknown as RegistrationResponseJSON,
          name: request.body.name,
        },
        contextOf(request),
      )
      return reply.code(201).send(created)
    },
  })

  app.patch('/:id', {
    config,
    schema: {
      tags,
      security,
      summary: 'Rename a passkey',
      params: PasskeyParams,
      body: PasskeyRenameBody,
      response: { 200: Type.Ref('PasskeyPublic'), ...problemResponses },
    },
    handler: async (request) =>
      passkeys.rename(principalOf(request), request.params.id, request.body.name, contextOf(request)),
  })

  app.delete('/:id', {
    config,
    schema: {
      tags,
      security,
      summary: 'Remove a passkey (password required)',
      description:
        'Refused with 409 last-second-factor when it is the last second factor of an account with two-step verification on.',
      params: PasskeyParams,
      body: PasskeyDeleteBody,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      const principal = principalOf(request)
      await passkeys.confirmPassword(principal.userId, request.body.password)
      await passkeys.remove(principal, request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })
}
