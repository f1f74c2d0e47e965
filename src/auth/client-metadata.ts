import type { FieldError } from '../errors/app-error.js'
import { isPermission, PERMISSIONS } from './permissions.js'

/** Grants Kitsune's OpenID Provider offers (API.md): no implicit, no hybrid, no password grant. */
export const CLIENT_GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
] as const
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
] as const
export const CLIENT_SCOPES = ['openid', 'profile', 'email', 'offline_access', 'roles'] as const
/** OpenID Connect Dynamic Registration: a web application (the default) or a native one (RFC 8252). */
export const CLIENT_APPLICATION_TYPES = ['web', 'native'] as const
/** The algorithms a client may ask its ID tokens to be signed with (RS256 unless it asks). */
export const CLIENT_ID_TOKEN_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const
/** The `acr` values Kitsune asserts: a password alone, or a password and a second factor. */
export const CLIENT_ACR_VALUES = ['urn:kitsune:acr:pwd', 'urn:kitsune:acr:mfa'] as const

export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number]

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code'
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
/** RFC 8252 section 7.1: a private-use scheme is a reverse domain name, so it holds a period. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE_URI_TEXT = /[\s\u0000-\u001f\u007f]/
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/

/** The registered metadata of a client (RFC 7591 names), complete and normalised. */
export interface ClientMetadata {
  client_name: string
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: string[]
  response_types: string[]
  token_endpoint_auth_method: string
  scope: string
  backchannel_logout_uri: string | null
  jwks_uri: string | null
  first_party: boolean
  /** `native` allows private-use schemes and loopback redirect URIs on any port (RFC 8252). */
  application_type: string
  id_token_signed_response_alg: string
  /** The `acr` values asked for when an authorization request names none (the MFA one: a second factor). */
  default_acr_values: string[]
  /** Kitsune's own: the permissions a client_credentials client's access tokens carry. */
  permissions: string[]
}

export type ClientMetadataInput = Partial<ClientMetadata>

/** Whether the method authenticates with a shared secret (which Kitsune then generates and seals). */
export function usesClientSecret(method: string): boolean {
  return method === 'client_secret_basic' || method === 'client_secret_post'
}

/**
 * What RFC 7591 section 2 assumes for omitted fields: the authorization_code grant with the code
 * response type and client_secret_basic. `scope` defaults to openid alone: a client asks for more
 * by registering it.
 */
export function withClientDefaults(input: ClientMetadataInput): ClientMetadata {
  const grantTypes = input.grant_types ?? ['authorization_code']
  return {
    client_name: input.client_name ?? '',
    redirect_uris: input.redirect_uris ?? [],
    post_logout_redirect_uris: input.post_logout_redirect_uris ?? [],
    grant_types: grantTypes,
    response_types: input.response_types ?? defaultResponseTypes(grantTypes),
    token_endpoint_auth_method: input.token_endpoint_auth_method ?? 'client_secret_basic',
    scope: input.scope ?? 'openid',
    backchannel_logout_uri: input.backchannel_logout_uri ?? null,
    jwks_uri: input.jwks_uri ?? null,
    first_party: input.first_party ?? false,
    application_type: input.application_type ?? 'web',
    id_token_signed_response_alg: input.id_token_signed_response_alg ?? 'RS256',
    default_acr_values: input.default_acr_values ?? [],
    permissions: input.permissions ?? [],
  }
}

/**
 * A registered client's metadata with a JSON merge patch applied (null clears an optional URI).
 * New grant types without new response types get the response types that go with them.
 */
export function mergeClientMetadata(current: ClientMetadata, patch: ClientMetadataInput): ClientMetadata {
  const merged: ClientMetadata = {
    client_name: current.client_name,
    redirect_uris: current.redirect_uris,
    post_logout_redirect_uris: current.post_logout_redirect_uris,
    grant_types: current.grant_types,
    response_types: current.response_types,
    token_endpoint_auth_method: current.token_endpoint_auth_method,
    scope: current.scope,
    backchannel_logout_uri: current.backchannel_logout_uri,
    jwks_uri: current.jwks_uri,
    first_party: current.first_party,
    application_type: current.application_type,
    id_token_signed_response_alg: current.id_token_signed_response_alg,
    default_acr_values: current.default_acr_values,
    permissions: current.permissions,
    ...Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)),
  }
  if (patch.grant_types !== undefined && patch.response_types === undefined)
    merged.response_types = defaultResponseTypes(merged.grant_types)
  return merged
}

/** `code` for a client that redirects (authorization_code), none for one that never does. */
export function defaultResponseTypes(grantTypes: readonly string[]): string[] {
  return grantTypes.includes('authorization_code') ? ['code'] : []
}

/**
 * Whose URI is checked: a web client's redirect URI, a native client's (RFC 8252: also private-use
 * schemes), or an endpoint Kitsune calls or fetches (back-channel logout, JWKS).
 */
type UriRules = 'web' | 'native' | 'endpoint'

/**
 * A redirect URI a browser may be sent to: absolute, no fragment (RFC 6749 section 3.1.2), https,
 * or http on a loopback address (a native app's, or a web application in development), or for a
 * native app (RFC 8252) a private-use scheme such as `com.example.app:/callback`. `javascript:`
 * and `data:` hold no period and so never pass. A native app's https URI is a claimed one
 * (RFC 8252 section 7.2) and so names a real host, never a loopback one (as oidc-provider requires).
 */
function redirectUriProblem(value: string, rules: UriRules): string | undefined {
  if (UNSAFE_URI_TEXT.test(value)) return 'must not contain spaces or control characters'
  if (value.includes('#')) return 'must not contain a fragment (#)'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URI'
  }
  if (url.username || url.password) return 'must not contain a user name or password'
  if (url.protocol === 'https:') {
    if (!url.hostname) return 'must name a host'
    return rules === 'native' && LOOPBACK_HOSTS.has(url.hostname)
      ? 'a native client must not use https on a loopback address: use http://127.0.0.1 or http://[::1] (RFC 8252 section 7.3)'
      : undefined
  }
  if (url.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(url.hostname)
      ? undefined
      : 'must use https (plain http only on a loopback address: localhost, 127.0.0.1 or [::1])'
  }
  const privateUse = PRIVATE_USE_SCHEME.test(url.protocol.slice(0, -1))
  if (rules === 'native')
    return privateUse
      ? undefined
      : 'must use https, http on a loopback address, or a private-use scheme such as com.example.app:/callback (RFC 8252)'
  if (rules === 'web' && privateUse)
    return 'a private-use scheme is only for native clients (application_type "native", RFC 8252)'
  return 'must use https (plain http only on a loopback address)'
}

function checkUris(errors: FieldError[], field: string, values: readonly string[], rules: UriRules): void {
  values.forEach((value, index) => {
    const problem = redirectUriProblem(value, rules)
    if (problem) errors.push({ field: `${field}/${index}`, message: problem })
  })
}

function checkHttpsUri(errors: FieldError[], field: string, value: string | null, httpsOnly: boolean) {
  if (value === null) return
  const problem = redirectUriProblem(value, 'endpoint')
  if (problem) errors.push({ field, message: problem })
  else if (httpsOnly && !value.startsWith('https:')) errors.push({ field, message: 'must use https' })
}

/** Each value of `values` not in `allowed`, as a problem naming its index. */
function checkEach(
  errors: FieldError[],
  field: string,
  values: readonly string[],
  allowed: (value: string) => boolean,
  message: string,
): void {
  values.forEach((value, index) => {
    if (!allowed(value)) errors.push({ field: `${field}/${index}`, message })
  })
}

const oneOf =
  (values: readonly string[]) =>
  (value: string): boolean =>
    values.includes(value)

const unique = (values: readonly string[]) => [...new Set(values)]

/**
 * Checks a client's complete metadata against the rules of Kitsune's OpenID Provider and returns
 * it normalised (trimmed name, lists without duplicates, scope in canonical order), or every
 * problem found, each naming its field as a JSON pointer into the request body.
 */
export function checkClientMetadata(
  input: ClientMetadata,
): { ok: true; metadata: ClientMetadata } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = []
  const metadata: ClientMetadata = {
    ...input,
    client_name: input.client_name.trim(),
    redirect_uris: unique(input.redirect_uris),
    post_logout_redirect_uris: unique(input.post_logout_redirect_uris),
    grant_types: unique(input.grant_types),
    response_types: unique(input.response_types),
    default_acr_values: unique(input.default_acr_values),
    permissions: unique(input.permissions),
  }
  const grants = metadata.grant_types
  const method = metadata.token_endpoint_auth_method

  if (metadata.client_name === '') errors.push({ field: '/client_name', message: 'must not be empty' })

  if (grants.length === 0)
    errors.push({ field: '/grant_types', message: 'must name at least one grant type' })
  input.grant_types.forEach((grant, index) => {
    if ((CLIENT_GRANT_TYPES as readonly string[]).includes(grant)) return
    errors.push({
      field: `/grant_types/${index}`,
      message:
        grant === 'implicit'
          ? 'the implicit grant is not supported: use authorization_code (with PKCE)'
          : `is not a supported grant type (one of: ${CLIENT_GRANT_TYPES.join(', ')})`,
    })
  })
  if (
    grants.includes('refresh_token') &&
    !grants.includes('authorization_code') &&
    !grants.includes(DEVICE_CODE)
  )
    errors.push({
      field: '/grant_types',
      message: 'refresh_token needs a grant that issues refresh tokens: authorization_code or device_code',
    })

  input.response_types.forEach((type, index) => {
    if (type !== 'code')
      errors.push({
        field: `/response_types/${index}`,
        message: 'only "code" is supported (no implicit or hybrid flows)',
      })
  })
  if (grants.includes('authorization_code') && !metadata.response_types.includes('code'))
    errors.push({ field: '/response_types', message: 'must be ["code"] for the authorization_code grant' })
  if (!grants.includes('authorization_code') && metadata.response_types.length > 0)
    errors.push({
      field: '/response_types',
      message: 'must be empty for a client without the authorization_code grant',
    })

  if (grants.includes('authorization_code') && metadata.redirect_uris.length === 0)
    errors.push({
      field: '/redirect_uris',
      message: 'at least one is required for the authorization_code grant',
    })
  const native = metadata.application_type === 'native'
  if (!(CLIENT_APPLICATION_TYPES as readonly string[]).includes(metadata.application_type))
    errors.push({
      field: '/application_type',
      message: `must be one of: ${CLIENT_APPLICATION_TYPES.join(', ')}`,
    })
  checkUris(errors, '/redirect_uris', input.redirect_uris, native ? 'native' : 'web')
  checkUris(errors, '/post_logout_redirect_uris', input.post_logout_redirect_uris, native ? 'native' : 'web')
  checkHttpsUri(errors, '/backchannel_logout_uri', metadata.backchannel_logout_uri, false)
  checkHttpsUri(errors, '/jwks_uri', metadata.jwks_uri, true)

  if (!(CLIENT_AUTH_METHODS as readonly string[]).includes(method)) {
    errors.push({
      field: '/token_endpoint_auth_method',
      message: `must be one of: ${CLIENT_AUTH_METHODS.join(', ')}`,
    })
  }
  if (method === 'none' && grants.includes('client_credentials'))
    errors.push({
      field: '/grant_types',
      message:
        'client_credentials needs a confidential client; a public client (token_endpoint_auth_method "none") cannot use it',
    })
  if (method === 'private_key_jwt' && metadata.jwks_uri === null)
    errors.push({
      field: '/jwks_uri',
      message: 'is required for private_key_jwt (where the client publishes its keys)',
    })

  if (!(CLIENT_ID_TOKEN_ALGORITHMS as readonly string[]).includes(metadata.id_token_signed_response_alg))
    errors.push({
      field: '/id_token_signed_response_alg',
      message: `must be one of: ${CLIENT_ID_TOKEN_ALGORITHMS.join(', ')}`,
    })
  checkEach(
    errors,
    '/default_acr_values',
    input.default_acr_values,
    oneOf(CLIENT_ACR_VALUES),
    `is not an acr value Kitsune asserts (one of: ${CLIENT_ACR_VALUES.join(', ')})`,
  )
  checkEach(
    errors,
    '/permissions',
    input.permissions,
    isPermission,
    `is not a Kitsune permission (one of: ${PERMISSIONS.join(', ')})`,
  )
  if (metadata.permissions.length > 0 && !grants.includes('client_credentials'))
    errors.push({
      field: '/permissions',
      message:
        'only a client with the client_credentials grant carries permissions (its own access tokens); leave it empty or add that grant',
    })

  const scopes = metadata.scope.split(' ')
  if (metadata.scope.trim() === '') errors.push({ field: '/scope', message: 'must name at least one scope' })
  else if (scopes.includes(''))
    errors.push({ field: '/scope', message: 'must be scope names separated by single spaces' })
  else {
    const unknown = scopes.filter((s) => !(CLIENT_SCOPES as readonly string[]).includes(s))
    if (unknown.length > 0)
      errors.push({
        field: '/scope',
        message: `unknown scope(s): ${unique(unknown).join(', ')} (known: ${CLIENT_SCOPES.join(' ')})`,
      })
  }
  metadata.scope = CLIENT_SCOPES.filter((s) => scopes.includes(s)).join(' ')

  return errors.length > 0 ? { ok: false, errors } : { ok: true, metadata }
}

/** RFC 7591 fields of a dynamic registration that Kitsune's registry keeps. */
const REGISTERED_STRINGS = [
  'client_name',
  'token_endpoint_auth_method',
  'scope',
  'application_type',
  'id_token_signed_response_alg',
  'backchannel_logout_uri',
  'jwks_uri',
] as const
const REGISTERED_LISTS = [
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'response_types',
  'default_acr_values',
  'permissions',
] as const
/**
 * What the OpenID Provider adds to every registration: the identifiers it issued, and
 * backchannel_logout_session_required (Kitsune's logout tokens always name the session).
 */
const ISSUED_FIELDS = new Set([
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'backchannel_logout_session_required',
])
/** Fields the OpenID Provider fills with a default: accepted only at the value every Kitsune client has. */
const FIXED_FIELDS: Readonly<Record<string, unknown>> = {
  subject_type: 'public',
  require_auth_time: false,
  require_pushed_authorization_requests: false,
  dpop_bound_access_tokens: false,
}

/**
 * The metadata of an RFC 7591 registration, as the OpenID Provider hands it over after its own
 * checks, turned into the input of a registry entry. Every field Kitsune does not keep is a
 * problem (dropping it would leave the client other than it registered); so is asking to be
 * first-party (a registered client always asks for consent) or for permissions (only an
 * administrator gives those). The result still has to pass checkClientMetadata.
 */
export function registrationInput(
  registration: Readonly<Record<string, unknown>>,
): { ok: true; input: ClientMetadataInput } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = []
  const input: Record<string, unknown> = {}
  const known = new Set<string>([...REGISTERED_STRINGS, ...REGISTERED_LISTS, 'first_party'])
  for (const [key, value] of Object.entries(registration)) {
    if (value === undefined || value === null || ISSUED_FIELDS.has(key)) continue
    if (key in FIXED_FIELDS) {
      if (value !== FIXED_FIELDS[key])
        errors.push({ field: `/${key}`, message: `only ${JSON.stringify(FIXED_FIELDS[key])} is supported` })
      continue
    }
    if (!known.has(key)) {
      errors.push({ field: `/${key}`, message: 'is not client metadata Kitsune registers' })
      continue
    }
    if ((REGISTERED_STRINGS as readonly string[]).includes(key)) {
      if (typeof value === 'string') input[key] = value
      else errors.push({ field: `/${key}`, message: 'must be a string' })
    } else if ((REGISTERED_LISTS as readonly string[]).includes(key)) {
      if (Array.isArray(value) && value.every((item) => typeof item === 'string')) input[key] = value
      else errors.push({ field: `/${key}`, message: 'must be an array of strings' })
    }
  }
  if (registration.first_party !== undefined && registration.first_party !== false)
    errors.push({
      field: '/first_party',
      message: 'a dynamically registered client is never first-party (it always asks for consent)',
    })
  if (Array.isArray(input.permissions) && input.permissions.length > 0)
    errors.push({
      field: '/permissions',
      message: 'are not given through dynamic registration (an administrator gives them)',
    })
  if (errors.length > 0) return { ok: false, errors }
  return { ok: true, input: { ...(input as ClientMetadataInput), first_party: false, permissions: [] } }
}
