const PLAIN: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (temporary)',
}

/** An error as one short line: `connection refused` rather than `connect ECONNREFUSED 127.0.0.1:6390`. */
export function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && code in PLAIN) return PLAIN[code] as string
  // AggregateError (every address of a name refused) has an empty message: use its first error.
  const errors = (error as { errors?: unknown[] } | undefined)?.errors
  if (Array.isArray(errors) && errors.length > 0 && !(error as Error).message)
    return describeNetworkError(errors[0])
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] || 'unknown error'
}
