import { CurrentPassword, DateTime, NewPassword } from './common.schemas.js'
import { Type } from './type.js'

const strict = { additionalProperties: false } as const

export const UserPublic = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    full_name: Type.Union([Type.String(), Type.Null()]),
    is_active: Type.Boolean(),
    email_verified: Type.Boolean(),
    mfa_enabled: Type.Boolean(),
    roles: Type.Array(Type.String()),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'UserPublic' },
)

export const UserUpdateMe = Type.Object(
  { full_name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])) },
  strict,
)

export const PasswordChange = Type.Object(
  { current_password: CurrentPassword, new_password: NewPassword },
  strict,
)

export const AccountDelete = Type.Object({ password: CurrentPassword }, strict)

export const EmailChangeRequest = Type.Object(
  {
    new_email: Type.String({ minLength: 3, maxLength: 320, description: 'The address to change to' }),
    password: CurrentPassword,
  },
  strict,
)

export const SessionPublic = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    created_at: DateTime,
    last_used_at: DateTime,
    expires_at: DateTime,
    ip: Type.Union([Type.String(), Type.Null()]),
    user_agent: Type.Union([Type.String(), Type.Null()]),
    current: Type.Boolean(),
    kind: Type.Union([Type.Literal('api'), Type.Literal('browser')], {
      description: 'api: opened by POST /auth/login (tokens); browser: signed in through the pages',
    }),
    applications: Type.Array(Type.Object({ client_id: Type.String(), client_name: Type.String() }), {
      description: 'The OpenID clients this session signed in to',
    }),
  },
  { $id: 'SessionPublic' },
)

export const SessionList = Type.Object(
  { items: Type.Array(Type.Ref('SessionPublic')) },
  { $id: 'SessionList' },
)

export const ApplicationList = Type.Object({
  items: Type.Array(
    Type.Object({
      client_id: Type.String(),
      client_name: Type.String(),
      scopes: Type.Array(Type.String()),
      granted_at: DateTime,
    }),
  ),
})

export const MfaCode = Type.Object({ code: Type.String({ minLength: 6, maxLength: 32 }) }, strict)

export const MfaDisable = Type.Union([
  Type.Object({ code: Type.String({ minLength: 6, maxLength: 32 }) }, strict),
  Type.Object({ password: CurrentPassword }, strict),
])

export const MfaEnrolment = Type.Object({
  secret: Type.String(),
  otpauth_uri: Type.String(),
  qr_svg: Type.String(),
})

export const RecoveryCodes = Type.Object({ recovery_codes: Type.Array(Type.String()) })
