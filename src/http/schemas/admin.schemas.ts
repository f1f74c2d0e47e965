import { PERMISSIONS } from '../../auth/permissions.js'
import { AUDIT_ACTIONS } from '../../services/audit.service.js'
import { DateTime, EmailInput, NewPassword } from './common.schemas.js'
import { Type } from './type.js'

const strict = { additionalProperties: false } as const
const RoleName = Type.String({ minLength: 1, maxLength: 50 })
const Cursor = Type.String({ maxLength: 200 })
const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 50 })

export const UserListQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        maxLength: 254,
        description: 'Case-insensitive substring of the e-mail or the full name',
      }),
    ),
    role: Type.Optional(RoleName),
    is_active: Type.Optional(Type.Boolean()),
    email_verified: Type.Optional(
      Type.Boolean({ description: 'Only users whose address is (or is not) verified' }),
    ),
    mfa_enabled: Type.Optional(
      Type.Boolean({ description: 'Only users with (or without) two-step verification' }),
    ),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  strict,
)

export const UserPage = Type.Object({
  items: Type.Array(Type.Ref('UserPublic')),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})

export const UserAdminCreate = Type.Object(
  {
    email: EmailInput,
    password: NewPassword,
    full_name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    roles: Type.Optional(Type.Array(RoleName, { maxItems: 50 })),
    is_active: Type.Optional(Type.Boolean()),
    email_verified: Type.Optional(Type.Boolean()),
  },
  strict,
)

export const UserAdminUpdate = Type.Object(
  {
    email: Type.Optional(
      Type.String({
        minLength: 3,
        maxLength: 320,
        description: 'New address: unverified unless email_verified: true is sent too; a taken one → 409',
      }),
    ),
    full_name: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
    is_active: Type.Optional(Type.Boolean()),
    email_verified: Type.Optional(Type.Boolean()),
  },
  strict,
)

export const RoleAssignment = Type.Object({ roles: Type.Array(RoleName, { maxItems: 50 }) }, strict)

const Permission = Type.Union(PERMISSIONS.map((p) => Type.Literal(p)))

export const RolePublic = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    built_in: Type.Boolean(),
    permissions: Type.Array(Type.String()),
  },
  { $id: 'RolePublic' },
)

export const RoleCreate = Type.Object(
  {
    name: RoleName,
    description: Type.Optional(Type.String({ maxLength: 500 })),
    permissions: Type.Array(Permission, { maxItems: PERMISSIONS.length }),
  },
  strict,
)

export const RoleUpdate = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 500 })),
    permissions: Type.Optional(Type.Array(Permission, { maxItems: PERMISSIONS.length })),
  },
  strict,
)

export const RoleParams = Type.Object({ name: RoleName }, strict)

export const AuditQuery = Type.Object(
  {
    actor_id: Type.Optional(Type.String({ format: 'uuid' })),
    action: Type.Optional(Type.Union(AUDIT_ACTIONS.map((a) => Type.Literal(a)))),
    target_id: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(DateTime),
    to: Type.Optional(DateTime),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  strict,
)

export const AuditEntry = Type.Object({
  id: Type.String({ format: 'uuid' }),
  at: DateTime,
  actor_id: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  target_type: Type.Union([Type.String(), Type.Null()]),
  target_id: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  metadata: Type.Record(Type.String(), Type.Unknown()),
})

export const AuditPage = Type.Object({
  items: Type.Array(AuditEntry),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
})

export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  first_bad_id: Type.Optional(Type.String()),
})
