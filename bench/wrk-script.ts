import { MIXED_PATHS, type WorkloadPlan } from './workloads.js'

export const MARKER = 'KITSUNE_BENCH_JSON '

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

function luaPlans(plan: WorkloadPlan): string {
  const rows = plan.connections.map((c) => {
    const fields = [
      `headers = ${luaTable(c.headers)}`,
      `body = ${c.body === undefined ? 'nil' : lua(c.body)}`,
    ]
    if (c.session) {
      fields.push(
        `access = ${lua(c.session.accessToken)}`,
        `refresh = ${lua(c.session.refreshToken)}`,
        `login = ${lua(c.session.loginBody)}`,
      )
    }
    return `  { ${fields.join(', ')} },`
  })
  return `local plans = {\n${rows.join('\n')}\n}`
}

/**
 * W6 on one connection (= one thread): each request() draws 1–100 and sends a login, a refresh of
 * the thread's chain or GET /users/me with the thread's access token; response() knows which one
 * it answers (one connection, one request in flight) and, after a 200 refresh, takes the new
 * refresh_token and access_token so the connection's chain stays consistent.
 */
function mixedLua(plan: WorkloadPlan, refreshPercent: number, loginPercent: number): string[] {
  return [
    'local json = { ["Content-Type"] = "application/json" }',
    'local bearer = {}',
    'function request()',
    '  local draw = math.random(100)',
    `  if draw <= ${loginPercent} then`,
    '    kind = "login"',
    `    return wrk.format("POST", ${lua(MIXED_PATHS.login)}, json, login)`,
    `  elseif draw <= ${loginPercent + refreshPercent} then`,
    '    kind = "refresh"',
    `    return wrk.format("POST", ${lua(MIXED_PATHS.refresh)}, json, '{"refresh_token":"' .. refresh .. '"}')`,
    '  end',
    '  kind = "me"',
    '  bearer["Authorization"] = "Bearer " .. access',
    `  return wrk.format("GET", ${lua(plan.path)}, bearer, nil)`,
    'end',
    'function response(status, headers, body)',
    '  statuses[status] = (statuses[status] or 0) + 1',
    '  counts[kind] = counts[kind] + 1',
    '  if status < 200 or status > 299 then failures[kind] = failures[kind] + 1 return end',
    '  if kind ~= "refresh" then return end',
    '  local token = body:match(\'"refresh_token":"([^"]+)"\')',
    '  local bearerToken = body:match(\'"access_token":"([^"]+)"\')',
    '  if token and bearerToken then refresh = token access = bearerToken end',
    'end',
  ]
}

/** done(): the summary and, for counting plans, the per-thread tables merged, as one JSON line. */
function doneLua(): string[] {
  return [
    'local function merge(into, from) for k, v in pairs(from or {}) do into[k] = (into[k] or 0) + v end end',
    'local function object(t)',
    '  local parts = {}',
    '  for k, v in pairs(t) do parts[#parts + 1] = string.format(\'"%s":%d\', tostring(k), v) end',
    '  return "{" .. table.concat(parts, ",") .. "}"',
    'end',
    'function done(summary, latency, requests)',
    '  local all, count, fail = {}, {}, {}',
    '  for _, thread in ipairs(threads) do',
    '    merge(all, thread:get("statuses"))',
    '    merge(count, thread:get("counts"))',
    '    merge(fail, thread:get("failures"))',
    '  end',
    '  local e = summary.errors',
    `  io.write(string.format('${MARKER}{"requests":%d,"micros":%d,"p50":%d,"p90":%d,"p99":%d,"status":%d,"errors":%d,"statuses":%s,"counts":%s,"failures":%s}\\n',`,
    '    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),',
    '    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout,',
    '    object(all), object(count), object(fail)))',
    'end',
  ]
}

/**
 * Load threads for a plan. When connections carry state (a refresh chain, W6's session, W3's
 * counter), wrk runs one thread per connection (setup() numbers the threads), so a thread's globals
 * are that connection's. When they only differ by user (W1, W2), two threads send each request as
 * the next user in turn: 64 load threads on one core would add their own scheduling to the latency.
 */
export function wrkThreads(plan: WorkloadPlan): number {
  const connections = plan.connections.length
  return plan.perConnection && plan.dynamic.kind !== 'none' ? connections : Math.min(2, connections)
}

/** The Lua script for a plan (threads as wrkThreads says). */
export function wrkScript(plan: WorkloadPlan): string {
  const lines = [
    luaPlans(plan),
    'local threads = {}',
    'function setup(thread)',
    '  threads[#threads + 1] = thread',
    '  thread:set("index", #threads)',
    'end',
    'function init(args)',
    '  local plan = plans[index] or plans[1]',
    `  wrk.method = ${lua(plan.method)}`,
    `  wrk.path = ${lua(plan.path)}`,
    '  for name, value in pairs(plan.headers) do wrk.headers[name] = value end',
    '  wrk.body = plan.body',
    '  statuses = {}',
    '  counts = { me = 0, refresh = 0, login = 0 }',
    '  failures = { me = 0, refresh = 0, login = 0 }',
    '  access, refresh, login = plan.access, plan.refresh, plan.login',
    '  math.randomseed(os.time() * 1000 + index)',
    'end',
  ]
  const dynamic = plan.dynamic
  if (dynamic.kind === 'mixed') {
    lines.push(...mixedLua(plan, dynamic.refreshPercent, dynamic.loginPercent))
  } else if (dynamic.kind === 'refresh-chain') {
    const next =
      dynamic.encoding === 'form'
        ? "'grant_type=refresh_token&refresh_token=' .. token"
        : '\'{"refresh_token":"\' .. token .. \'"}\''
    lines.push(
      'function request() return wrk.format() end',
      'function response(status, headers, body)',
      ...(plan.countStatuses ? ['  statuses[status] = (statuses[status] or 0) + 1'] : []),
      '  if status ~= 200 then return end',
      '  local token = body:match(\'"refresh_token":"([^"]+)"\')',
      `  if token then wrk.body = ${next} end`,
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
  } else if (plan.perConnection) {
    // Fixed requests that differ only by user (W1, W2): few threads, each request the next user's.
    lines.push(
      'local turn = nil',
      'function request()',
      '  turn = (turn or index - 1) % #plans + 1',
      '  local plan = plans[turn]',
      `  return wrk.format(${lua(plan.method)}, ${lua(plan.path)}, plan.headers, plan.body)`,
      'end',
    )
  }
  if (dynamic.kind === 'none' && plan.countStatuses) {
    lines.push('function response(status) statuses[status] = (statuses[status] or 0) + 1 end')
  }
  lines.push(...doneLua())
  return `${lines.join('\n')}\n`
}
