import type { KoaContextWithOIDC } from 'oidc-provider'
import Provider, { type Configuration, errors, interactionPolicy } from 'oidc-provider'
import { CLIENT_SCOPES } from '../auth/client-metadata.js'
import { deriveKey } from '../auth/secret-box.js'
import type { Kitsune } from '../kitsune.js'
import { newClientId, newClientSecret } from '../services/oidc-client.service.js'
import { ID_TOKEN_ALGORITHM, ID_TOKEN_MAX_TTL_SECONDS } from '../services/signing-key.service.js'
import type { CookiePolicy } from '../web/csrf.js'
import { createAdapterClass } from './adapter.js'
import { failClosed } from './errors.js'
import { type EngineViews, engineViews } from './views.js'

/** The `acr` values Kitsune asserts: a password alone, or a password and a second factor. */
export const ACR_PASSWORD = 'urn:kitsune:acr:pwd'
export const ACR_MFA = 'urn:kitsune:acr:mfa'

/** Where every endpoint lives (API.md § OpenID Provider): under /oidc/, JWKS and device entry fixed. */
export const OIDC_ROUTES = {
  authorization: '/oidc/auth',
  token: '/oidc/token',
  userinfo: '/oidc/me',
  jwks: '/.well-known/jwks.json',
  revocation: '/oidc/token/revocation',
  introspection: '/oidc/token/introspection',
  end_session: '/oidc/session/end',
  pushed_authorization_request: '/oidc/request',
  device_authorization: '/oidc/device/auth',
  code_verification: '/ui/device',
  registration: '/oidc/reg',
  backchannel_authentication: '/oidc/backchannel',
} as const

/** Pages the engine sends a person to for each prompt. */
export const SIGN_IN_PATH = '/ui/sign-in'
export const CONSENT_PATH = '/ui/consent'

/** The engine's cookie names: `__Host-` where the cookie is site-wide, `__Secure-` where the engine scopes it to a path. */
export function engineCookieNames(policy: CookiePolicy) {
  return policy.secure
    ? {
        session: '__Host-kitsune-op',
        interaction: '__Host-kitsune-interaction',
        resume: '__Secure-kitsune-resume',
      }
    : { session: 'kitsune-op', interaction: 'kitsune-interaction', resume: 'kitsune-resume' }
}

const ID_TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const

/** The reasons a login prompt can give that mean the person must type a password again. */
export const REAUTHENTICATE_REASONS = new Set([
  'login_prompt',
  'max_age',
  'id_token_hint',
  'claims_id_token_hint',
])
export const MFA_REQUIRED_REASON = 'mfa_required'

/**
 * Whether acr_values (a preference list, OIDC Core 3.1.2.1) leave only the MFA level acceptable:
 * `urn:kitsune:acr:mfa` alone demands a second factor; listing the password level too does not.
 */
export function demandsSecondFactor(acrValues: unknown): boolean {
  const wanted = String(acrValues ?? '').split(' ')
  return wanted.includes(ACR_MFA) && !wanted.includes(ACR_PASSWORD)
}

function policy() {
  const { base, Check, Prompt } = interactionPolicy
  const prompts = base()
  // prompt=select_account: the person confirms the signed-in account or signs in with another.
  prompts.add(new Prompt({ name: 'select_account', requestable: true }), 0)
  // acr_values (or the client's default_acr_values) naming the MFA level make a session signed in
  // with a password alone sign in again with a second factor.
  prompts.get('login')?.checks.add(
    new Check(MFA_REQUIRED_REASON, 'a second factor is required', 'interaction_required', (ctx) => {
      return demandsSecondFactor(ctx.oidc.params?.acr_values) && ctx.oidc.session?.acr !== ACR_MFA
        ? Check.REQUEST_PROMPT
        : Check.NO_NEED_TO_PROMPT
    }),
  )
  return prompts
}

export interface OidcEngine {
  readonly provider: Provider
  /** The key ids the engine was built with: a rotation builds a new engine. */
  readonly kids: string
}

/**
 * Builds oidc-provider for Kitsune: issuer PUBLIC_URL, Kitsune's keys, storage, accounts and pages.
 * The engine does the protocol; Kitsune decides who signs in, what they consent to and what ends.
 */
export function createEngine(kitsune: Kitsune, cookies: CookiePolicy): OidcEngine {
  const { config, services, clock } = kitsune
  const { keys, rbac, clients } = services
  const jwks = keys.privateJwks()
  const supportedIdTokenAlgs = ID_TOKEN_ALGORITHMS.filter((alg) => jwks.some((key) => key.alg === alg))
  const views: EngineViews = engineViews(kitsune)
  const accessTtl = config.jwt.accessTokenTtlSeconds
  const refreshTtl = config.jwt.refreshTokenTtlSeconds

  const configuration: Configuration = {
    adapter: createAdapterClass({ uow: kitsune.uow, store: kitsune.store, clients, clock }),
    jwks: { keys: jwks as never },
    routes: OIDC_ROUTES,
    scopes: [...CLIENT_SCOPES],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
      email: ['email', 'email_verified'],
      profile: ['name', 'updated_at'],
      roles: ['roles', 'permissions'],
    },
    acrValues: [ACR_PASSWORD, ACR_MFA],
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Kitsune's client registry (first_party: no consent screen).
    extraClientMetadata: {
      properties: ['first_party', 'permissions'],
      validator(_ctx, key, value) {
        if (key === 'first_party' && value !== undefined && typeof value !== 'boolean')
          throw new errors.InvalidClientMetadata('first_party must be a boolean')
        if (
          key === 'permissions' &&
          value !== undefined &&
          !(Array.isArray(value) && value.every((item) => typeof item === 'string'))
        )
          throw new errors.InvalidClientMetadata('permissions must be an array of strings')
      },
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: ID_TOKEN_ALGORITHM,
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: {
      idTokenSigningAlgValues: [...supportedIdTokenAlgs],
      userinfoSigningAlgValues: [...supportedIdTokenAlgs],
      introspectionSigningAlgValues: [...supportedIdTokenAlgs],
      authorizationSigningAlgValues: [...supportedIdTokenAlgs],
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    },
    cookies: {
      names: engineCookieNames(cookies),
      long: { httpOnly: true, sameSite: 'lax', secure: cookies.secure, path: '/', signed: true },
      short: { httpOnly: true, sameSite: 'lax', secure: cookies.secure, path: '/', signed: true },
      keys: [deriveKey(config.secretKey, 'kitsune/oidc-cookies/v1').toString('base64url')],
    },
    ttl: {
      AccessToken: accessTtl,
      AuthorizationCode: 60,
      ClientCredentials: accessTtl,
      DeviceCode: 600,
      Grant: refreshTtl,
      IdToken: Math.min(3600, ID_TOKEN_MAX_TTL_SECONDS),
      Interaction: 3600,
      RefreshToken: refreshTtl,
      Session: refreshTtl,
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resource) {
          if (!config.oidc.resources.includes(resource)) throw new errors.InvalidTarget()
          return {
            audience: resource,
            scope: '',
            accessTokenFormat: 'jwt',
            accessTokenTTL: accessTtl,
            jwt: { sign: { alg: ID_TOKEN_ALGORITHM } },
          }
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: views.deviceInput,
        userCodeConfirmSource: views.deviceConfirm,
        successSource: views.deviceSuccess,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: views.logout,
        postLogoutSuccessSource: views.logoutSuccess,
      },
      // RFC 7591 registration at /oidc/reg, only with an initial access token an administrator
      // issued (initialAccessTokenMinter below); the adapter stores the client in Kitsune's
      // registry after the same checks as the admin API. Management (RFC 7592) stays off, so no
      // registration access token is issued: it would open nothing but a read of the client's
      // record, secret included.
      registration: {
        enabled: config.oidc.dynamicRegistration,
        initialAccessToken: true,
        idFactory: () => newClientId(),
        secretFactory: () => newClientSecret(),
        issueRegistrationAccessToken: false,
      },
    },
    interactions: {
      policy: policy(),
      url(ctx, interaction) {
        const page = interaction.prompt.name === 'consent' ? CONSENT_PATH : SIGN_IN_PATH
        const locales =
          typeof ctx.oidc.params?.ui_locales === 'string' ? ctx.oidc.params.ui_locales : undefined
        const query = new URLSearchParams({ interaction: interaction.uid })
        if (locales) query.set('ui_locales', locales)
        return `${page}?${query}`
      },
    },
    renderError: views.error,
    async findAccount(_ctx, sub) {
      const user = await failClosed(() => kitsune.uow.read.users.findById(sub))
      if (!user?.is_active) return undefined
      return {
        accountId: user.id,
        async claims(_use, scope) {
          const scopes = new Set(scope.split(' '))
          const roles = scopes.has('roles') ? user.roles : undefined
          return {
            sub: user.id,
            email: user.email,
            email_verified: user.email_verified,
            name: user.full_name ?? undefined,
            updated_at: Math.floor(user.updated_at.getTime() / 1000),
            ...(roles ? { roles, permissions: await failClosed(() => rbac.permissionsOf(roles)) } : {}),
          }
        },
      }
    },
    async loadExistingGrant(ctx) {
      const { session } = ctx.oidc
      // The Kitsune session the person signed in with, kept in the engine's session (see below).
      const linked = (ctx.oidc.result as { kitsune?: { sessionId?: string } } | undefined)?.kitsune?.sessionId
      if (session && linked) (session as unknown as { kitsuneSessionId?: string }).kitsuneSessionId = linked
      const grantId =
        (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ??
        (ctx.oidc.client ? session?.grantIdFor(ctx.oidc.client.clientId) : undefined)
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined
    },
    async extraTokenClaims(ctx, token) {
      // A machine-to-machine client's tokens carry the permissions it was registered with.
      if (token.kind === 'ClientCredentials') {
        const permissions = (ctx.oidc.client?.metadata() as { permissions?: string[] } | undefined)
          ?.permissions
        return permissions && permissions.length > 0 ? { permissions } : undefined
      }
      // JWT access tokens for an API carry the roles and permissions when the roles scope was granted.
      if (!('accountId' in token) || !token.accountId || !ctx.oidc.grant) return undefined
      if (!ctx.oidc.grant.getOIDCScope().split(' ').includes('roles')) return undefined
      const user = await failClosed(() => kitsune.uow.read.users.findById(String(token.accountId)))
      if (!user) return undefined
      return { roles: user.roles, permissions: await failClosed(() => rbac.permissionsOf(user.roles)) }
    },
    clientBasedCORS(_ctx, origin, client) {
      // A browser application may call the token, userinfo and revocation endpoints from the
      // origins of its own redirect URIs, and no other.
      return (client.redirectUris ?? []).some((uri) => {
        try {
          return new URL(uri).origin === origin
        } catch {
          return false
        }
      })
    },
    // The engine refuses to reach loopback, private and link-local addresses (back-channel logout,
    // client key sets); OIDC_ALLOW_PRIVATE_URIS=true lifts that for development and tests.
    fetch: (url, options) => {
      if (config.oidc.allowPrivateUris) delete (options as { dispatcher?: unknown }).dispatcher
      return globalThis.fetch(url, options)
    },
    discovery: {
      ui_locales_supported: ['en', 'es'],
      claims_locales_supported: ['en', 'es'],
    },
  }

  const provider = new Provider(config.publicUrl, configuration)
  // Kitsune gives the engine the real scheme, host and client address (oidc/oidc.plugin.ts).
  provider.proxy = true
  // Browsers keep Secure cookies from http://localhost too (a potentially trustworthy origin), so
  // "secure" follows Kitsune's cookie policy rather than the scheme; URLs keep PUBLIC_URL's scheme.
  Object.defineProperty((provider as unknown as { request: object }).request, 'secure', {
    configurable: true,
    get: () => cookies.secure,
  })

  // The engine's session carries the Kitsune session it was signed in with, so ending one ends
  // the other: stored in the payload, and in a column by the adapter.
  const Session = provider.Session as unknown as { IN_PAYLOAD: string[] }
  const sessionFields = [...Session.IN_PAYLOAD, 'kitsuneSessionId']
  Object.defineProperty(provider.Session, 'IN_PAYLOAD', { get: () => sessionFields })

  // Every ID token carries `sid` (API.md claims), not only those of back-channel logout clients:
  // an application matches it against logout tokens and the account console's session list.
  Object.defineProperty(provider.Client.prototype, 'includeSid', { configurable: true, value: () => true })

  return { provider, kids: kidsOf(keys.jwks().keys) }
}

/**
 * Issues initial access tokens for dynamic registration through the engine's InitialAccessToken
 * model (kept in oidc_payloads by the adapter): each token opens /oidc/reg until it expires.
 */
export function initialAccessTokenMinter(provider: Provider) {
  return async (ttlSeconds: number): Promise<{ token: string; expiresAt: Date }> => {
    const token = new provider.InitialAccessToken({ expiresIn: ttlSeconds })
    const value = await token.save()
    const exp = (token as unknown as { exp?: number }).exp
    return { token: value, expiresAt: new Date((exp ?? Math.floor(Date.now() / 1000) + ttlSeconds) * 1000) }
  }
}

/** The key ids the engine signs with, in order: compared on every request, so kept cheap. */
export function kidsOf(keys: ReadonlyArray<{ kid?: string }>): string {
  return keys.map((key) => key.kid ?? '').join(',')
}

export type { KoaContextWithOIDC }
