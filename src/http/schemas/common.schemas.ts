import { Type } from './type.js'

/** RFC 9457 problem details, as every 4xx/5xx answers. */
export const Problem = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
)

export const problemResponses = {
  '4xx': Type.Ref('Problem'),
  '5xx': Type.Ref('Problem'),
} as const

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false })

/** Accepts surrounding spaces; the service trims, lower-cases and checks the address. */
export const EmailInput = Type.String({ minLength: 3, maxLength: 320, description: 'E-mail address' })

/** NIST SP 800-63B: at least 8 characters, at most 256, no composition rules. */
export const NewPassword = Type.String({ minLength: 8, maxLength: 256 })
/** A password being checked, not set: only bounded so huge inputs never reach the hasher. */
export const CurrentPassword = Type.String({ minLength: 1, maxLength: 256 })

export const DateTime = Type.String({ format: 'date-time' })
