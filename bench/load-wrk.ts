import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { LoadResult, WorkloadPlan } from './workloads.js'

const run = promisify(execFile)
const MARKER = 'KITSUNE_BENCH_JSON '

/** A Lua string literal (the bench's own ASCII values: tokens, e-mails, JSON). */
function lua(value: string): string {
  if (/[^\x20-\x7e]/.test(value)) throw new Error(`unexpected character in ${value}`)
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

function luaTable(record: Readonly<Record<string, string>>): string {
  return `{${Object.entries(record)
    .map(([key, value]) => `[${lua(key)}] = ${lua(value)}`)
    .join(', ')}}`
}

/**
 * The Lua script for a plan. When connections differ, wrk runs one thread per connection (setup()
 * numbers the threads), so a thread's globals are that connection's user or refresh-token chain.
 */
export function wrkScript(plan: WorkloadPlan): string {
  const plans = plan.connections
    .map(
      (c) => `  { headers = ${luaTable(c.headers)}, body = ${c.body === undefined ? 'nil' : lua(c.body)} },`,
    )
    .join('\n')
  const lines = [
    `local plans = {\n${plans}\n}`,
    'local threads = 0',
    'function setup(thread)',
    '  threads = threads + 1',
    '  thread:set("index", threads)',
    'end',
    'function init(args)',
    '  local plan = plans[index] or plans[1]',
    `  wrk.method = ${lua(plan.method)}`,
    `  wrk.path = ${lua(plan.path)}`,
    '  for name, value in pairs(plan.headers) do wrk.headers[name] = value end',
    '  wrk.body = plan.body',
    'end',
  ]
  const dynamic = plan.dynamic
  if (dynamic.kind === 'refresh-chain') {
    lines.push(
      'function request() return wrk.format() end',
      'function response(status, headers, body)',
      '  if status ~= 200 then return end',
      '  local token = body:match(\'"refresh_token":"([^"]+)"\')',
      '  if token then wrk.body = \'{"refresh_token":"\' .. token .. \'"}\' end',
      'end',
    )
  } else if (dynamic.kind === 'unique-email') {
    lines.push(
      'local counter = 0',
      'function request()',
      '  counter = counter + 1',
      `  local body = string.format('{"email":"%s-%d-%d@bench.example.com","password":"%s"}', ${lua(dynamic.prefix)}, index, counter, ${lua(dynamic.password)})`,
      '  return wrk.format(nil, nil, nil, body)',
      'end',
    )
  }
  lines.push(
    'function done(summary, latency, requests)',
    '  local e = summary.errors',
    `  io.write(string.format('${MARKER}{"requests":%d,"micros":%d,"p50":%d,"p90":%d,"p99":%d,"status":%d,"errors":%d}\\n',`,
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),',
    '    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))',
    'end',
  )
  return `${lines.join('\n')}\n`
}

interface WrkSummary {
  requests: number
  micros: number
  p50: number
  p90: number
  p99: number
  status: number
  errors: number
}

export async function runWrk(
  plan: WorkloadPlan,
  baseUrl: string,
  seconds: number,
  prefix: readonly string[],
): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kitsune-wrk-'))
  const script = join(dir, `${plan.id}.lua`)
  writeFileSync(script, wrkScript(plan))
  const connections = plan.connections.length
  const threads = plan.perConnection ? connections : Math.min(2, connections)
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s']
  const command = [...prefix, 'wrk', ...args, '-s', script, `${baseUrl}${plan.path}`]
  try {
    const { stdout } = await run(command[0] as string, command.slice(1), { maxBuffer: 1 << 20 })
    const line = stdout.split('\n').find((l) => l.startsWith(MARKER))
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`)
    const summary = JSON.parse(line.slice(MARKER.length)) as WrkSummary
    const elapsed = summary.micros / 1e6
    return {
      tool: 'wrk',
      requests: summary.requests,
      seconds: elapsed,
      rps: summary.requests / elapsed,
      latencyMs: { p50: summary.p50 / 1000, p90: summary.p90 / 1000, p99: summary.p99 / 1000 },
      non2xx: summary.status,
      errors: summary.errors,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
