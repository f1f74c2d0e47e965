import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../../errors/app-error.js'
import type { Kitsune } from '../../kitsune.js'
import type { TokenPair as TokenPairBody } from '../../services/token-pair.js'
import type { KitsuneApp } from '../app-types.js'
import { contextOf, principalOf } from '../plugins/authenticate.js'
import { handleError } from '../plugins/error-handler.js'
import {
  Accepted,
  EmailChangeTokenBody,
  ForgotPasswordBody,
  LoginBody,
  LoginMfaBody,
  LogoutBody,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
  TokenForm,
  VerifyEmailBody,
} from '../schemas/auth.schemas.js'
import { problemResponses } from '../schemas/common.schemas.js'
import { Type } from '../schemas/type.js'

const tags = ['auth']
const secured = [{ bearer: [] }]

export async function authRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { auth, sessions, emailFlows, emailChange } = kitsune.services

  app.post('/register', {
    config: { rateLimit: 'register' },
    schema: {
      tags,
      summary: 'Create an account',
      body: RegisterBody,
      response: { 201: Type.Ref('UserPublic'), ...problemResponses },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await auth.register(request.body, contextOf(request))),
  })

  app.post('/login', {
    config: { rateLimit: 'login' },
    schema: {
      tags,
      summary: 'Log in with e-mail and password',
      description: 'Unknown e-mail and wrong password get the same 401 answer in status, body and timing.',
      body: LoginBody,
      response: { 200: Type.Union([Type.Ref('TokenPair'), Type.Ref('MfaChallenge')]), ...problemResponses },
    },
    handler: async (request) => auth.login(request.body, contextOf(request)),
  })

  app.post('/login/mfa', {
    config: { rateLimit: 'mfa' },
    schema: {
      tags,
      summary: 'Complete an MFA login with a TOTP or recovery code',
      body: LoginMfaBody,
      response: { 200: Type.Ref('TokenPair'), ...problemResponses },
    },
    handler: async (request) => auth.loginMfa(request.body, contextOf(request)),
  })

  app.post('/token', {
    config: { rateLimit: 'login' },
    schema: {
      tags,
      summary: 'OAuth2 token endpoint (password and refresh_token grants)',
      consumes: ['application/x-www-form-urlencoded'],
      body: TokenForm,
      response: {
        200: Type.Ref('TokenPair'),
        400: Type.Ref('OAuthError'),
        '4xx': Type.Ref('Problem'),
        '5xx': Type.Ref('Problem'),
      },
    },
    errorHandler: oauthErrorHandler,
    handler: async (request): Promise<TokenPairBody> => {
      const form = request.body
      if (form.grant_type === 'password') {
        if (!form.username || !form.password)
          throw oauthError('invalid_request', 'username and password are required')
        const result = await auth.login({ email: form.username, password: form.password }, contextOf(request))
        if ('mfa_required' in result) {
          throw oauthError(
            'invalid_grant',
            'MFA is required for this account: log in with /api/v1/auth/login and /login/mfa',
          )
        }
        return result
      }
      if (form.grant_type === 'refresh_token') {
        if (!form.refresh_token) throw oauthError('invalid_request', 'refresh_token is required')
        return sessions.refresh(form.refresh_token, contextOf(request))
      }
      throw oauthError('unsupported_grant_type', 'grant_type must be password or refresh_token')
    },
  })

  app.post('/refresh', {
    config: { rateLimit: 'refresh' },
    schema: {
      tags,
      summary: 'Rotate a refresh token for a new token pair',
      description: 'The presented refresh token dies; presenting a used one again revokes the whole session.',
      body: RefreshBody,
      response: { 200: Type.Ref('TokenPair'), ...problemResponses },
    },
    handler: async (request) => sessions.refresh(request.body.refresh_token, contextOf(request)),
  })

  app.post('/logout', {
    config: { auth: true },
    schema: {
      tags,
      security: secured,
      summary: 'End the current session',
      body: LogoutBody,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await sessions.logout(principalOf(request), request.body?.refresh_token, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/logout-all', {
    config: { auth: true },
    schema: {
      tags,
      security: secured,
      summary: 'End every session of the current user',
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await sessions.endAllSessions(principalOf(request), contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/password/forgot', {
    config: { rateLimit: 'forgot' },
    schema: {
      tags,
      summary: 'Send a password reset link',
      description: 'Always 202 with the same body, whether or not the account exists.',
      body: ForgotPasswordBody,
      response: { 202: Accepted, ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailFlows.forgotPassword(request.body.email, contextOf(request))
      return reply
        .code(202)
        .send({ status: 'accepted', detail: 'If the account exists, a reset link is on its way.' })
    },
  })

  app.post('/password/reset', {
    // 256-bit single-use tokens cannot be guessed: the global per-IP limit is enough.
    config: {},
    schema: {
      tags,
      summary: 'Set a new password with a reset token; every session ends',
      body: ResetPasswordBody,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailFlows.resetPassword(request.body.token, request.body.new_password, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/email/verify', {
    // 256-bit single-use tokens cannot be guessed: the global per-IP limit is enough.
    config: {},
    schema: {
      tags,
      summary: 'Confirm an e-mail address',
      body: VerifyEmailBody,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailFlows.verifyEmail(request.body.token, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/email/change/confirm', {
    // 256-bit single-use tokens cannot be guessed: the global per-IP limit is enough.
    config: {},
    schema: {
      tags,
      summary: 'Confirm a change of e-mail address with the link sent to the new address',
      description:
        'The new address becomes the account address, verified. 400 for an unknown, used or expired link; ' +
        '409 EMAIL_TAKEN when another account took the address meanwhile (nothing changes).',
      body: EmailChangeTokenBody,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailChange.confirm(request.body.token, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/email/change/undo', {
    config: {},
    schema: {
      tags,
      summary: 'Undo a change of e-mail address with the link sent to the old address; every session ends',
      description:
        'Restores the address the account had when the change was asked for (valid 7 days), ends every ' +
        'session and OpenID grant of the account and cancels pending changes.',
      body: EmailChangeTokenBody,
      response: { 204: Type.Null(), ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailChange.undo(request.body.token, contextOf(request))
      return reply.code(204).send(null)
    },
  })

  app.post('/email/verify/resend', {
    config: { auth: true, rateLimit: 'forgot' },
    schema: {
      tags,
      security: secured,
      summary: 'Send a new verification link',
      response: { 202: Accepted, ...problemResponses },
    },
    handler: async (request, reply) => {
      await emailFlows.resendVerification(principalOf(request))
      return reply
        .code(202)
        .send({ status: 'accepted', detail: 'If the address is not verified yet, a new link is on its way.' })
    },
  })
}

class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description)
  }
}

function oauthError(error: string, description: string): OAuthError {
  return new OAuthError(error, description)
}

/** RFC 6749 section 5.2 errors for the token endpoint; rate limits and outages stay problem+json. */
function oauthErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let mapped: OAuthError | undefined
  if (error instanceof OAuthError) mapped = error
  else if (error instanceof AppError) {
    if (error.code === 'INVALID_CREDENTIALS')
      mapped = oauthError('invalid_grant', 'invalid username or password')
    else if (error.code === 'INVALID_TOKEN')
      mapped = oauthError('invalid_grant', 'refresh token is invalid, expired or already used')
    else if (error.code === 'VALIDATION_FAILED')
      mapped = oauthError('invalid_request', error.detail ?? 'invalid request')
  } else if (error.validation) {
    mapped = oauthError('invalid_request', error.message)
  } else if (error.statusCode === 415 || error.statusCode === 400) {
    mapped = oauthError('invalid_request', error.message)
  }
  if (!mapped) return handleError(error, request, reply)
  return reply
    .code(mapped.status)
    .header('cache-control', 'no-store')
    .send({ error: mapped.error, error_description: mapped.description })
}
