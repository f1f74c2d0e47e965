const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 }

/** Parses `90s`, `15m`, `12h`, `30d` (or bare seconds) into seconds; undefined when malformed. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d{1,9})\s*([smhd]?)$/.exec(text.trim())
  if (!match) return undefined
  const seconds = Number(match[1]) * (UNIT_SECONDS[match[2] || 's'] ?? 1)
  return seconds > 0 ? seconds : undefined
}
