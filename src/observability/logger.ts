import { type Logger, pino } from 'pino'
import type { Config } from '../config/config.schema.js'
import { currentTraceIds, tracingActive } from './trace-context.js'

/**
 * Paths never written to a log. pino's wildcards match one level only, so nested places where a
 * secret can appear are listed one by one.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'new_password',
  'current_password',
  'access_token',
  'refresh_token',
  'token',
  'secret',
  'code',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.secret',
  '*.password_hash',
  'body.password',
  'body.refresh_token',
]

export type { Logger }

export function createLogger(
  config: Pick<Config, 'log' | 'nodeEnv'>,
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level: config.log.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'kitsune' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    // Correlates log lines with traces; skipped entirely when tracing is off.
    ...(tracingActive() ? { mixin: currentTraceIds } : {}),
  }
  if (destination) return pino(options, destination as pino.DestinationStream)
  if (config.log.format === 'pretty' && prettyAvailable()) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } },
    })
  }
  return pino(options)
}

/** pino-pretty is a development dependency; a production install falls back to JSON lines. */
function prettyAvailable(): boolean {
  try {
    import.meta.resolve('pino-pretty')
    return true
  } catch {
    return false
  }
}
