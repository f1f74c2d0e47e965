import { register } from 'node:module'
import { createAddHookMessageChannel } from 'import-in-the-middle'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The same order src/otel.ts uses in production: loader hook, then the SDK, then the application.
// Each vitest file runs in a fresh process, so pg and ioredis load after the hook.
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel()
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions)
const { InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
const { SpanKind } = await import('@opentelemetry/api')
const { startTracing } = await import('../../src/observability/tracing.js')
const exporter = new InMemorySpanExporter()
const tracing = startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
await waitForAllMessagesAcknowledged()
const { buildTestApp } = await import('../helpers/build-test-app.js')
const { pgliteTarget } = await import('../helpers/test-targets.js')
const { tracingEnabled } = await import('../../src/config/tracing-config.js')

describe('tracing with an in-memory span exporter', () => {
  let t: Awaited<ReturnType<typeof buildTestApp>>
  let base: string
  beforeAll(async () => {
    t = await buildTestApp({ target: pgliteTarget })
    base = await t.app.listen({ host: '127.0.0.1', port: 0 })
  })
  afterAll(async () => {
    await t?.close()
    await tracing.shutdown()
  })

  it('records a server span for a login with child spans for its database queries', async () => {
    const email = `trace-${Date.now()}@example.com`
    const password = 'a long tracing password'
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await post('/api/v1/auth/register', { email, password })).status).toBe(201)
    exporter.reset()
    const response = await post('/api/v1/auth/login', { email, password })
    expect(response.status).toBe(200)

    const spans = exporter.getFinishedSpans()
    const server =
      spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['http.route'] === '/api/v1/auth/login') ??
      spans.find((s) => s.kind === SpanKind.SERVER)
    expect(server).toBeDefined()
    const traceId = server?.spanContext().traceId
    const queries = spans.filter(
      (s) =>
        s.spanContext().traceId === traceId &&
        (s.attributes['db.system.name'] ?? s.attributes['db.system']) === 'postgresql',
    )
    expect(queries.length).toBeGreaterThan(0)
    // Every query span hangs under the request's trace, not in a trace of its own.
    for (const query of queries) expect(query.parentSpanContext?.spanId).toBeDefined()

    const line = t.logs.find((l) => l.route === '/api/v1/auth/login' && l.msg === 'request')
    expect(line?.trace_id).toBe(traceId)
    expect(line?.span_id).toMatch(/^[0-9a-f]{16}$/)
  })

  it("keeps a page link's token out of the server span", async () => {
    const secret = 'page-link-secret-0123456789abcdef0123456789abcdef'
    exporter.reset()
    const response = await fetch(`${base}/ui/reset-password?token=${secret}`)
    expect(response.status).toBe(200)
    const spans = exporter.getFinishedSpans()
    expect(spans.some((s) => s.kind === SpanKind.SERVER)).toBe(true)
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(secret)
  })

  it('stays off unless an OTLP endpoint is configured', () => {
    expect(tracingEnabled({})).toBe(false)
    expect(tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true)
    expect(
      tracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toBe(false)
  })
})
