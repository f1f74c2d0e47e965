/**
 * The catalogue of stable error codes. Services throw `new AppError(code)`; only the HTTP error
 * handler turns a code into a status and an RFC 9457 problem (`type` is PROBLEM_BASE + slug).
 */
export const PROBLEM_BASE = 'https://kitsune.dev/problems/'

export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, slug: 'bad-request', title: 'Bad request' },
  MALFORMED_JSON: { status: 400, slug: 'malformed-json', title: 'Malformed JSON body' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, slug: 'unsupported-media-type', title: 'Unsupported content type' },
  PAYLOAD_TOO_LARGE: { status: 413, slug: 'payload-too-large', title: 'Request body too large' },
  VALIDATION_FAILED: { status: 422, slug: 'validation-error', title: 'Validation failed' },
  INVALID_CREDENTIALS: { status: 401, slug: 'invalid-credentials', title: 'Invalid credentials' },
  UNAUTHENTICATED: { status: 401, slug: 'unauthenticated', title: 'Authentication required' },
  INVALID_MFA_CODE: { status: 401, slug: 'invalid-mfa-code', title: 'Invalid or expired MFA code' },
  MFA_ALREADY_ENABLED: { status: 409, slug: 'mfa-already-enabled', title: 'MFA is already enabled' },
  MFA_NOT_ENABLED: { status: 409, slug: 'mfa-not-enabled', title: 'MFA is not enabled' },
  INVALID_TOKEN: { status: 401, slug: 'invalid-token', title: 'Invalid or expired token' },
  ACCOUNT_DISABLED: { status: 401, slug: 'invalid-credentials', title: 'Invalid credentials' },
  FORBIDDEN: { status: 403, slug: 'forbidden', title: 'Forbidden' },
  TARGET_OUTRANKS_ACTOR: {
    status: 403,
    slug: 'target-outranks-actor',
    title: 'The account holds permissions you do not',
  },
  EMAIL_NOT_VERIFIED: { status: 403, slug: 'email-not-verified', title: 'E-mail address not verified' },
  INVALID_EMAIL_TOKEN: {
    status: 400,
    slug: 'invalid-email-token',
    title: 'The link is invalid, used or expired',
  },
  INVALID_PASSKEY: { status: 401, slug: 'invalid-passkey', title: 'The passkey was not accepted' },
  AUTHENTICATOR_NOT_ALLOWED: {
    status: 403,
    slug: 'authenticator-not-allowed',
    title: 'This kind of authenticator is not allowed here',
  },
  PASSKEY_EXISTS: { status: 409, slug: 'passkey-exists', title: 'This passkey is already registered' },
  LAST_SECOND_FACTOR: {
    status: 409,
    slug: 'last-second-factor',
    title: "This is the account's last second factor",
  },
  NOT_FOUND: { status: 404, slug: 'not-found', title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, slug: 'method-not-allowed', title: 'Method not allowed' },
  EMAIL_TAKEN: { status: 409, slug: 'email-taken', title: 'E-mail address already registered' },
  CONFLICT: { status: 409, slug: 'conflict', title: 'Conflict' },
  LAST_ADMIN: { status: 409, slug: 'last-admin', title: 'The last administrator cannot be removed' },
  ROLE_EXISTS: { status: 409, slug: 'role-exists', title: 'A role with this name exists' },
  BUILT_IN_ROLE: { status: 409, slug: 'built-in-role', title: 'Built-in roles cannot be changed this way' },
  DYNAMIC_REGISTRATION_OFF: {
    status: 409,
    slug: 'dynamic-registration-off',
    title: 'Dynamic client registration is off (OIDC_DYNAMIC_REGISTRATION)',
  },
  RATE_LIMITED: { status: 429, slug: 'rate-limited', title: 'Too many requests' },
  SERVER_BUSY: {
    status: 503,
    slug: 'server-busy',
    title: 'Too busy to check passwords right now; retry shortly',
  },
  DEPENDENCY_DOWN: { status: 503, slug: 'service-unavailable', title: 'Service temporarily unavailable' },
  INTERNAL: { status: 500, slug: 'internal-error', title: 'Internal server error' },
} as const satisfies Record<string, { status: number; slug: string; title: string }>

export type ErrorCode = keyof typeof ERROR_CODES
