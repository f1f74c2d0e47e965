/** True when `error` is PostgreSQL's unique_violation (23505), optionally on a given constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const candidate = error as { code?: unknown; constraint?: unknown } | null
  return candidate?.code === '23505' && (constraint === undefined || candidate.constraint === constraint)
}
