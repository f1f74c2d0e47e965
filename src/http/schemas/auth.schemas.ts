import { CurrentPassword, EmailInput, NewPassword } from './common.schemas.js'
import { Type } from './type.js'

const strict = { additionalProperties: false } as const

export const RegisterBody = Type.Object(
  {
    email: EmailInput,
    password: NewPassword,
    full_name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  },
  strict,
)

export const LoginBody = Type.Object({ email: EmailInput, password: CurrentPassword }, strict)

/**
 * The longest string taken where a token is expected. Kitsune's own opaque tokens are 43
 * characters, but anything up to this length is looked up like any other and, when it is not a
 * live token, answered as an unknown one (401 / invalid link), never as a validation error: a client
 * that pastes its access token (a JWT, often longer than 512 characters) or a token from another
 * system must be told to sign in again, not that its request is malformed. 8 KiB is what servers
 * commonly allow for a whole header line, so any bearer token a client holds fits.
 */
const TOKEN_MAX_LENGTH = 8192

const OpaqueToken = Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH })

export const RefreshBody = Type.Object({ refresh_token: OpaqueToken }, strict)

export const LogoutBody = Type.Union([
  Type.Object({ refresh_token: Type.Optional(OpaqueToken) }, strict),
  Type.Null(),
])

export const TokenPair = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
    refresh_token: Type.String(),
    refresh_expires_in: Type.Integer({
      description: 'Seconds until the session (and its refresh token) expires',
    }),
  },
  { $id: 'TokenPair' },
)

/** OAuth2 token endpoint form (RFC 6749 4.3 and 6). */
export const TokenForm = Type.Object(
  {
    grant_type: Type.String({ maxLength: 64 }),
    username: Type.Optional(Type.String({ maxLength: 320 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    refresh_token: Type.Optional(Type.String({ maxLength: TOKEN_MAX_LENGTH })),
    scope: Type.Optional(Type.String({ maxLength: 1024 })),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    client_secret: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
)

export const OAuthError = Type.Object(
  { error: Type.String(), error_description: Type.Optional(Type.String()) },
  { $id: 'OAuthError', description: 'RFC 6749 section 5.2 error' },
)

export const ForgotPasswordBody = Type.Object({ email: EmailInput }, strict)

export const ResetPasswordBody = Type.Object({ token: OpaqueToken, new_password: NewPassword }, strict)

export const VerifyEmailBody = Type.Object({ token: OpaqueToken }, strict)

/** The token of an address-change link (confirmation or undo). */
export const EmailChangeTokenBody = Type.Object({ token: OpaqueToken }, strict)

export const Accepted = Type.Object({ status: Type.Literal('accepted'), detail: Type.String() })

export const MfaChallenge = Type.Object(
  {
    mfa_required: Type.Literal(true),
    mfa_token: Type.String(),
    methods: Type.Array(Type.String()),
  },
  {
    $id: 'MfaChallenge',
    description: 'The password checked out; a second factor is required at /auth/login/mfa',
  },
)

export const LoginMfaBody = Type.Object(
  {
    mfa_token: OpaqueToken,
    code: Type.String({ minLength: 6, maxLength: 32, description: 'TOTP code or recovery code' }),
  },
  strict,
)
