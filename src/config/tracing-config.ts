import type { Environment } from './config.schema.js'

/**
 * Tracing is configured only by the standard OTEL_* variables, which the OpenTelemetry SDK reads
 * itself; Kitsune only decides whether to load it at all: off (no SDK, no hooks) unless an OTLP
 * endpoint is set and OTEL_SDK_DISABLED is not true.
 */
export function tracingEnabled(env: Environment = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true'
}

/** `kitsune` unless OTEL_SERVICE_NAME or a service.name resource attribute says otherwise. */
export function defaultServiceName(env: Environment = process.env): string | undefined {
  const named = env.OTEL_SERVICE_NAME || env.OTEL_RESOURCE_ATTRIBUTES?.includes('service.name=')
  return named ? undefined : 'kitsune'
}
