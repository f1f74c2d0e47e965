import { FastifyOtelInstrumentation } from '@fastify/otel'
import { trace } from '@opentelemetry/api'
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http'
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis'
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg'
import { NodeSDK } from '@opentelemetry/sdk-node'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { defaultServiceName } from '../config/tracing-config.js'
import { markTracingActive } from './trace-context.js'

/**
 * Query parameters whose values never go into a span: the instrumentation's own defaults (signed
 * storage URLs), plus the single-use tokens of the pages' e-mail links (`/ui/reset-password?token=`)
 * and ID tokens sent to the end-session endpoint.
 */
export const REDACTED_QUERY_PARAMS = [
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'token',
  'id_token_hint',
]

/**
 * Starts the OpenTelemetry SDK with HTTP, Fastify, pg and ioredis instrumentation. The exporter
 * (OTLP over HTTP) and resource come from the standard OTEL_* variables; tests pass their own span
 * processors. Prometheus covers metrics, so the SDK's own metric exporter stays off.
 */
export function startTracing(options: { spanProcessors?: SpanProcessor[] } = {}): {
  shutdown(): Promise<void>
} {
  const sdk = new NodeSDK({
    serviceName: defaultServiceName(),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
    metricReaders: [],
    instrumentations: [
      new HttpInstrumentation({ redactedQueryParamsServer: REDACTED_QUERY_PARAMS }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // url.path is the path alone (OpenTelemetry semantic conventions); @fastify/otel puts the
        // whole URL there, query string and its tokens included.
        requestHook: (span, request) => span.setAttribute('url.path', request.url.split('?')[0] ?? '/'),
      }),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  })
  sdk.start()
  markTracingActive(() => {
    const context = trace.getActiveSpan()?.spanContext()
    return context ? { trace_id: context.traceId, span_id: context.spanId } : {}
  })
  return {
    async shutdown() {
      markTracingActive(undefined)
      // Rejects when no collector listens; there is nothing left to do about it at exit.
      await sdk.shutdown().catch(() => undefined)
    },
  }
}
