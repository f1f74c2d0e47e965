import type { Kitsune } from '../../kitsune.js'
import type { KitsuneApp } from '../app-types.js'
import { contextOf, principalOf } from '../plugins/authenticate.js'
import { Accepted } from '../schemas/auth.schemas.js'
import { IdParams, problemResponses } from '../schemas/common.schemas.js'
import { Type } from '../schemas/type.js'
import {
  AccountDelete,
  ApplicationList,
  EmailChangeRequest,
  MfaCode,
  MfaDisable,
  MfaEnrolment,
  PasswordChange,
  RecoveryCodes,
  UserUpdateMe,
} from '../schemas/user.schemas.js'

const tags = ['me']
const config = { auth: true }
const security = [{ bearer: [] }]

export async function meRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { users, sessions, mfa, oidcGrants, emailChange } = kitsune.services

  app.get('/', {
    config,
    schema: {
      tags,
      security,
      summary: 'The current user',
      response: { 200: Type.Ref('UserPublic'), ...problemResponses },
    },
    handler: async (request) => users.me(principalOf(request)),
  })

  app.patch('/', {
    config,
    schema: {
      tags,
      security,
      summary: 'Update the current user',
      body: UserUpdateMe,
      response: { 200: Type.Ref('UserPublic'), ...problemResponses },
    },
    handler: async (request) => users.updateMe(principalOf(request), request.body, contextOf(request)),
  })

  app.delete('/', {
    config,
    schema: {
      tags,
      security,
      summary: 'Delete the current account (password required)',
      body: AccountDelete,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await users.deleteMe(principalOf(request), request.body.password, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/password', {
    config,
    schema: {
      tags,
      security,
      summary: 'Change the password; every other session ends',
      body: PasswordChange,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await users.changePassword(principalOf(request), request.body, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/email', {
    config: { ...config, rateLimit: 'forgot' },
    schema: {
      tags,
      security,
      summary: 'Change the e-mail address (password required): a link to the new address confirms it',
      description:
        'Mails a confirmation link to the new address and a notice with a 7-day undo link to the current one. ' +
        'The address changes only when the link is used. Always 202: whether the new address belongs to ' +
        'another account is not told here (no link is sent to it).',
      body: EmailChangeRequest,
      response: { 202: Accepted, ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailChange.request(principalOf(request).userId, request.body, contextOf(request))
      return reply
        .code(202)
        .send({ status: 'accepted', detail: 'A confirmation link is on its way to the new address.' })
    },
  })

  app.get('/sessions', {
    config,
    schema: {
      tags,
      security,
      summary: "The current user's live sessions",
      response: { 200: Type.Ref('SessionList'), ...problemResponses },
    },
    handler: async (request) => ({ items: await sessions.list(principalOf(request)) }),
  })

  app.delete('/sessions/:id', {
    config,
    schema: {
      tags,
      security,
      summary: 'End one of your sessions',
      params: IdParams,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await sessions.revokeOwn(principalOf(request), request.params.id, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.get('/applications', {
    config,
    schema: {
      tags,
      security,
      summary: 'The applications you allowed (remembered OpenID consent)',
      response: { 200: ApplicationList, ...problemResponses },
    },
    handler: async (request) => ({ items: await oidcGrants.consents(principalOf(request).userId) }),
  })

  app.delete('/applications/:client_id', {
    config,
    schema: {
      tags,
      security,
      summary: "Revoke an application's access: its remembered consent and every grant and token it holds",
      params: Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 200 }) }),
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await oidcGrants.revokeConsent(
        principalOf(request).userId,
        request.params.client_id,
        contextOf(request),
      )
      return reply.code(204).send(null)
    },
  })

  app.post('/mfa/totp', {
    config,
    schema: {
      tags,
      security,
      summary: 'Start TOTP enrolment: a secret, its otpauth URI and a QR code',
      response: { 200: MfaEnrolment, ...problemResponses },
    },
    handler: async (request) => mfa.beginEnrolment(principalOf(request)),
  })

  app.post('/mfa/totp/confirm', {
    config,
    schema: {
      tags,
      security,
      summary: 'Confirm enrolment with a current code; returns 10 recovery codes, shown once',
      body: MfaCode,
      response: { 200: RecoveryCodes, ...problemResponses },
    },
    handler: async (request) =>
      mfa.confirmEnrolment(principalOf(request), request.body.code, contextOf(request)),
  })

  app.delete('/mfa/totp', {
    config,
    schema: {
      tags,
      security,
      summary: 'Disable TOTP with a current code or the password',
      body: MfaDisable,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await mfa.disable(principalOf(request), request.body, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/mfa/recovery-codes', {
    config,
    schema: {
      tags,
      security,
      summary: 'Replace the recovery codes (the old ones die)',
      body: MfaCode,
      response: { 200: RecoveryCodes, ...problemResponses },
    },
    handler: async (request) =>
      mfa.regenerateRecoveryCodes(principalOf(request), request.body.code, contextOf(request)),
  })
}
