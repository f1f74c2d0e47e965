/**
 * Loaded before the application (`node --import ./dist/otel.js dist/cli/main.js serve`, which
 * `npm start` does): when an OTLP endpoint is configured, registers the ESM loader hook the
 * instrumentations need and starts tracing, so the modules imported afterwards are instrumented.
 * Without an endpoint it does nothing at all.
 */
import { register } from 'node:module'
import { tracingEnabled } from './config/tracing-config.js'

if (tracingEnabled()) {
  const { createAddHookMessageChannel } = await import('import-in-the-middle')
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel()
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions)
  const { startTracing } = await import('./observability/tracing.js')
  const tracing = startTracing()
  await waitForAllMessagesAcknowledged()
  process.once('beforeExit', () => void tracing.shutdown())
}
