import type { ErrorCode } from './error-codes.js'

export interface FieldError {
  /** JSON pointer into the request body, e.g. `/email`. */
  readonly field: string
  readonly message: string
}

export interface AppErrorOptions {
  readonly detail?: string
  readonly errors?: readonly FieldError[]
  /** Seconds, for RATE_LIMITED. */
  readonly retryAfter?: number
  readonly cause?: unknown
}

/** A domain error with a stable code. Services throw these; they never know about HTTP. */
export class AppError extends Error {
  readonly detail: string | undefined
  readonly errors: readonly FieldError[] | undefined
  readonly retryAfter: number | undefined

  constructor(
    readonly code: ErrorCode,
    options: AppErrorOptions = {},
  ) {
    super(options.detail ?? code, { cause: options.cause })
    this.name = 'AppError'
    this.detail = options.detail
    this.errors = options.errors
    this.retryAfter = options.retryAfter
  }
}

export function validationError(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', { detail: message, errors: [{ field, message }] })
}

// SQLSTATE classes and socket errors that mean "the database cannot be reached right now".
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '57P04',
  '3D000',
  '53300',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
])
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'PGlite is closed',
  'driver has already been destroyed',
  'Client was closed',
  // pg, when a statement (often the ROLLBACK after a failed one) is sent on a broken connection.
  'Client has encountered a connection error',
  'Connection is closed',
  "Stream isn't writeable",
]

/** True when an error says a dependency (database, Redis) is down rather than that a query is wrong. */
export function isDependencyDown(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (current instanceof AppError) return current.code === 'DEPENDENCY_DOWN'
    const candidate = current as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown }
    if (typeof candidate.code === 'string' && UNAVAILABLE_CODES.has(candidate.code)) return true
    if (
      typeof candidate.message === 'string' &&
      UNAVAILABLE_MESSAGES.some((m) => String(candidate.message).includes(m))
    ) {
      return true
    }
    if (Array.isArray(candidate.errors) && candidate.errors.some((inner) => isDependencyDown(inner)))
      return true
    current = candidate.cause
  }
  return false
}
