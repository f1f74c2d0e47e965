type TraceIds = { trace_id?: string; span_id?: string }

// Set by startTracing. This module imports nothing, so a process without tracing never loads
// the OpenTelemetry API at all.
let readIds: (() => TraceIds) | undefined

export function markTracingActive(read: (() => TraceIds) | undefined): void {
  readIds = read
}

/** Whether spans are being recorded (log lines then carry trace_id and span_id). */
export function tracingActive(): boolean {
  return readIds !== undefined
}

/** trace_id/span_id of the active span, for log correlation. */
export function currentTraceIds(): TraceIds {
  return readIds?.() ?? {}
}
