import {
  CLIENT_ACR_VALUES,
  CLIENT_APPLICATION_TYPES,
  CLIENT_AUTH_METHODS,
  CLIENT_GRANT_TYPES,
  CLIENT_ID_TOKEN_ALGORITHMS,
  CLIENT_SCOPES,
} from '../../auth/client-metadata.js'
import { PERMISSIONS } from '../../auth/permissions.js'
import { INITIAL_TOKEN_TTL } from '../../services/oidc-client.service.js'
import { DateTime } from './common.schemas.js'
import { Type } from './type.js'

// Values are checked by the service (each rule answers 422 naming the field, with the reason);
// the schemas bound sizes and shapes, and list the accepted values for the documentation.
const strict = { additionalProperties: false } as const
const Uri = Type.String({ minLength: 1, maxLength: 2000 })
const UriList = (description: string) => Type.Array(Uri, { maxItems: 20, description })
const NullableUri = (description: string) => Type.Union([Uri, Type.Null()], { description })

const metadataFields = {
  client_name: Type.String({ minLength: 1, maxLength: 200 }),
  redirect_uris: UriList(
    'Exact redirect URIs: https, http on localhost / 127.0.0.1 / [::1], or for a native client a private-use scheme (com.example.app:/callback); no fragment. Required for authorization_code.',
  ),
  post_logout_redirect_uris: UriList('Where RP-initiated logout may return to (same rules)'),
  grant_types: Type.Array(Type.String({ maxLength: 100 }), {
    maxItems: 4,
    description: `Default ["authorization_code"]. Any of: ${CLIENT_GRANT_TYPES.join(', ')}`,
  }),
  response_types: Type.Array(Type.String({ maxLength: 50 }), {
    maxItems: 4,
    description: '["code"] with authorization_code (the default), [] without it',
  }),
  token_endpoint_auth_method: Type.String({
    maxLength: 50,
    description: `Default client_secret_basic; "none" makes a public client. One of: ${CLIENT_AUTH_METHODS.join(', ')}`,
  }),
  scope: Type.String({
    maxLength: 200,
    description: `Space-separated subset of: ${CLIENT_SCOPES.join(' ')} (default "openid")`,
  }),
  backchannel_logout_uri: NullableUri('OpenID Connect Back-Channel Logout endpoint of the client'),
  jwks_uri: NullableUri("The client's public keys (https); required for private_key_jwt"),
  first_party: Type.Boolean({
    description: 'A first-party application skips the consent screen (default false)',
  }),
  application_type: Type.String({
    maxLength: 20,
    description: `Default web. One of: ${CLIENT_APPLICATION_TYPES.join(', ')}. A native client (RFC 8252) may use private-use scheme redirect URIs, and its loopback http redirect URIs match on any port`,
  }),
  id_token_signed_response_alg: Type.String({
    maxLength: 20,
    description: `How its ID tokens are signed: default RS256. One of: ${CLIENT_ID_TOKEN_ALGORITHMS.join(', ')}`,
  }),
  default_acr_values: Type.Array(Type.String({ maxLength: 100 }), {
    maxItems: 10,
    description: `The acr values asked for when a request names none (default []). Any of: ${CLIENT_ACR_VALUES.join(', ')} (the second demands a second factor)`,
  }),
  permissions: Type.Array(Type.String({ maxLength: 100 }), {
    maxItems: 50,
    description: `Kitsune permissions the client's client_credentials access tokens carry (default []; only with that grant; only those the caller holds). Any of: ${PERMISSIONS.join(', ')}`,
  }),
}

export const ClientAdminCreate = Type.Object(
  {
    client_name: metadataFields.client_name,
    redirect_uris: Type.Optional(metadataFields.redirect_uris),
    post_logout_redirect_uris: Type.Optional(metadataFields.post_logout_redirect_uris),
    grant_types: Type.Optional(metadataFields.grant_types),
    response_types: Type.Optional(metadataFields.response_types),
    token_endpoint_auth_method: Type.Optional(metadataFields.token_endpoint_auth_method),
    scope: Type.Optional(metadataFields.scope),
    backchannel_logout_uri: Type.Optional(metadataFields.backchannel_logout_uri),
    jwks_uri: Type.Optional(metadataFields.jwks_uri),
    first_party: Type.Optional(metadataFields.first_party),
    application_type: Type.Optional(metadataFields.application_type),
    id_token_signed_response_alg: Type.Optional(metadataFields.id_token_signed_response_alg),
    default_acr_values: Type.Optional(metadataFields.default_acr_values),
    permissions: Type.Optional(metadataFields.permissions),
  },
  { ...strict, description: 'RFC 7591 client metadata, plus first_party and permissions' },
)

export const ClientAdminUpdate = Type.Object(
  {
    client_name: Type.Optional(metadataFields.client_name),
    redirect_uris: Type.Optional(metadataFields.redirect_uris),
    post_logout_redirect_uris: Type.Optional(metadataFields.post_logout_redirect_uris),
    grant_types: Type.Optional(metadataFields.grant_types),
    response_types: Type.Optional(metadataFields.response_types),
    token_endpoint_auth_method: Type.Optional(metadataFields.token_endpoint_auth_method),
    scope: Type.Optional(metadataFields.scope),
    backchannel_logout_uri: Type.Optional(metadataFields.backchannel_logout_uri),
    jwks_uri: Type.Optional(metadataFields.jwks_uri),
    first_party: Type.Optional(metadataFields.first_party),
    application_type: Type.Optional(metadataFields.application_type),
    id_token_signed_response_alg: Type.Optional(metadataFields.id_token_signed_response_alg),
    default_acr_values: Type.Optional(metadataFields.default_acr_values),
    permissions: Type.Optional(metadataFields.permissions),
  },
  { ...strict, description: 'The fields to change; the result must pass every rule of a creation' },
)

const clientPublicFields = {
  client_id: Type.String(),
  client_name: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  grant_types: Type.Array(Type.String()),
  response_types: Type.Array(Type.String()),
  token_endpoint_auth_method: Type.String(),
  scope: Type.String(),
  backchannel_logout_uri: Type.Union([Type.String(), Type.Null()]),
  jwks_uri: Type.Union([Type.String(), Type.Null()]),
  first_party: Type.Boolean(),
  application_type: Type.String(),
  id_token_signed_response_alg: Type.String(),
  default_acr_values: Type.Array(Type.String()),
  permissions: Type.Array(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
  created_by: Type.Union([Type.String(), Type.Null()], {
    description:
      'The administrator who registered it (null: the command line, or dynamic registration at /oidc/reg)',
  }),
}

/** A registered client as every answer but the two below shows it: never its secret. */
export const ClientPublic = Type.Object(clientPublicFields)

/** The 201 answer: the client and, for a confidential client, its secret, shown this once. */
export const ClientCreated = Type.Object({
  ...clientPublicFields,
  client_secret: Type.Optional(
    Type.String({ description: 'Shown only in this answer; store it now (absent for public clients)' }),
  ),
})

export const ClientSecretRotated = Type.Object({
  client_id: Type.String(),
  client_secret: Type.String({
    description: 'The new secret, shown only in this answer; the old one stops working',
  }),
})

export const ClientParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) },
  strict,
)

export const ClientListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  strict,
)

export const ClientPage = Type.Object({
  items: Type.Array(ClientPublic),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})

export const InitialTokenCreate = Type.Object(
  {
    ttl_seconds: Type.Optional(
      Type.Integer({
        minimum: INITIAL_TOKEN_TTL.min,
        maximum: INITIAL_TOKEN_TTL.max,
        default: INITIAL_TOKEN_TTL.default,
        description: 'How long the token opens /oidc/reg, in seconds (default one hour, at most 30 days)',
      }),
    ),
  },
  strict,
)

export const InitialTokenIssued = Type.Object({
  initial_access_token: Type.String({
    description:
      'The bearer token for RFC 7591 registration at /oidc/reg (Authorization: Bearer …), shown only in this answer; good for registrations until it expires',
  }),
  expires_at: DateTime,
})
