import { trace } from '@opentelemetry/api'

// Set by startTracing; a light module so the logger can ask without loading the SDK.
let active = false

export function markTracingActive(value: boolean): void {
  active = value
}

/** Whether spans are being recorded (log lines then carry trace_id and span_id). */
export function tracingActive(): boolean {
  return active
}

/** trace_id/span_id of the active span, for log correlation. */
export function currentTraceIds(): { trace_id?: string; span_id?: string } {
  const context = trace.getActiveSpan()?.spanContext()
  return context ? { trace_id: context.traceId, span_id: context.spanId } : {}
}
