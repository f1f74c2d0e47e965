import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { timeArgon2Verify } from './argon2.js'
import { BenchDatabase, deleteRedisKeys, pingRedis } from './infra.js'
import {
  type MeasureContext,
  measureCodeExchange,
  measureFlood,
  measureWorkload,
  warmUp,
  warmUpOidc,
} from './measure.js'
import { checkOidc, oidcServerEnv, seedOidc } from './oidc-seed.js'
import { choosePinning, clockTicksPerSecond, hasCommand, pinSelf, treeMemoryMiB } from './proc.js'
import {
  type BenchReport,
  compare,
  markdown,
  readReport,
  type WorkloadReport,
  writeReport,
} from './report.js'
import { checkAccessToken, type SeededUser, seedUsers } from './seed.js'
import { buildIfStale, freePort, type RunningServer, startServer } from './server.js'
import { measureWebhooks, type WebhookFigures, webhookServerEnv } from './webhooks.js'
import {
  FLOOD,
  isOidcWorkload,
  MAX_CONNECTIONS,
  MIXED_CONNECTIONS,
  OIDC_SIGNED_IN,
  OIDC_TOKEN_CONNECTIONS,
  OIDC_WORKLOADS,
  parseWorkloads,
  REFRESH_CONNECTIONS,
  type ScenarioId,
} from './workloads.js'

const USAGE = `Usage: npm run bench -- [--duration 10] [--warmup 5] [--idle 60] [--starts 5] [--workloads W1,W4,W1+W2,W6,O1,O2,O3,O3J,O4,O5,O6] [--flood] [--oidc] [--soak SECONDS] [--workers N] [--webhooks] [--embedded] [--skip-build] [--tool wrk|autocannon] [--compare FILE] [--env KEY=VALUE …] [--profile DIR] [--node-arg FLAG …]`

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    // Restarts on the migrated database after the workloads, timing spawn to ready (0: none).
    starts: { type: 'string', default: '5' },
    // Quiet time after seeding before the idle RSS is read, seconds (0: not read).
    idle: { type: 'string', default: '60' },
    // Unmeasured load before the first workload (W4, W1, W5 on chains of its own, W2), seconds each.
    warmup: { type: 'string', default: '5' },
    workloads: { type: 'string' },
    embedded: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
    tool: { type: 'string' },
    compare: { type: 'string' },
    // Extra server environment, e.g. --env METRICS_ENABLED=false or --env OTEL_EXPORTER_OTLP_ENDPOINT=…
    env: { type: 'string', multiple: true },
    // Writes a V8 CPU profile of the server to this directory when it exits (--cpu-prof).
    profile: { type: 'string' },
    // Extra node flags for the server, e.g. --node-arg=--max-semi-space-size=32 (repeatable).
    'node-arg': { type: 'string', multiple: true },
    // Adds W1+W2 (W1 during a W2 login flood) to the workloads.
    flood: { type: 'boolean', default: false },
    // Adds the OpenID Provider workloads O1…O6 (and O3J) to the workloads.
    oidc: { type: 'boolean', default: false },
    // Runs W6 for this many seconds (adding it to the workloads) and samples the server's RSS every 10 s.
    soak: { type: 'string' },
    // serve --workers N: cluster mode (PostgreSQL mode only); the server is then not pinned.
    workers: { type: 'string', default: '1' },
    // After W3, W3 again with a webhook endpoint on user.created (a sink here), then the queue drained.
    webhooks: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const seconds = Number(values.duration)
if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--duration must be a whole number of seconds')
const starts = Number(values.starts)
if (!Number.isInteger(starts) || starts < 0) throw new Error('--starts must be a whole number (0: none)')
const idleSeconds = Number(values.idle)
if (!Number.isInteger(idleSeconds) || idleSeconds < 0)
  throw new Error('--idle must be a whole number of seconds')
const warmupSeconds = Number(values.warmup)
if (!Number.isInteger(warmupSeconds) || warmupSeconds < 0) {
  throw new Error('--warmup must be a whole number of seconds (0: none)')
}
const soakSeconds = values.soak === undefined ? null : Number(values.soak)
if (soakSeconds !== null && (!Number.isInteger(soakSeconds) || soakSeconds < 1)) {
  throw new Error('--soak must be a whole number of seconds')
}
const workers = Number(values.workers)
if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers must be a whole number ≥ 1')
if (workers > 1 && values.embedded) throw new Error('--workers needs PostgreSQL and Redis: drop --embedded')
const extra: ScenarioId[] = [
  ...(values.flood ? [FLOOD] : []),
  ...(soakSeconds !== null ? ['W6' as const] : []),
  ...(values.oidc ? OIDC_WORKLOADS : []),
  ...(values.webhooks ? ['W3' as const] : []),
]
const workloads = parseWorkloads(values.workloads, extra)
const toolName = values.tool ?? (hasCommand('wrk') ? 'wrk' : 'autocannon')
if (toolName !== 'wrk' && toolName !== 'autocannon') throw new Error('--tool must be wrk or autocannon')
const tool: 'wrk' | 'autocannon' = toolName
const earlier = values.compare ? readReport(values.compare) : undefined

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const runId = randomBytes(4).toString('hex')
const ticksPerSecond = clockTicksPerSecond()
const cpus = availableParallelism() // before pinSelf() narrows this process's affinity to one CPU
const startedAt = new Date().toISOString()
const log = (message: string) => process.stderr.write(`bench: ${message}\n`)

if (!values['skip-build'] && buildIfStale(root)) log('built dist/')
const pinning = choosePinning(workers)
const mode = values.embedded ? 'embedded' : 'postgres'
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0'
const redisPrefix = `kitsune_bench_${runId}:`
let database: BenchDatabase | undefined
let server: RunningServer | undefined

async function cleanup(): Promise<void> {
  const running = server
  server = undefined
  if (running) await running.stop()
  const db = database
  database = undefined
  if (db) await db.drop()
  if (mode === 'postgres') await deleteRedisKeys(redisUrl, redisPrefix).catch(() => 0)
}
process.once('SIGINT', () => {
  log('interrupted: stopping Kitsune and dropping the bench database')
  void cleanup().finally(() => process.exit(130))
})

async function measure(id: ScenarioId, ctx: MeasureContext): Promise<WorkloadReport[]> {
  if (id === FLOOD) return measureFlood(ctx, seconds)
  if (id === 'O1') return [await measureCodeExchange(ctx, seconds)]
  return [await measureWorkload(ctx, id, id === 'W6' && soakSeconds !== null ? soakSeconds : seconds)]
}

async function main(): Promise<BenchReport> {
  const loadAtStart = loadavg()[0] ?? 0
  const env: Record<string, string> = { DATABASE_URL: 'pglite://memory' }
  if (mode === 'postgres') {
    await pingRedis(redisUrl)
    database = await BenchDatabase.create(
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      runId,
    )
    Object.assign(env, { DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: redisPrefix })
    log(`database ${database.name}, Redis key prefix ${redisPrefix}`)
  }
  const port = await freePort()
  const oidcWorkloads = OIDC_WORKLOADS.filter((id) => workloads.includes(id))
  // The issuer must be the address the bench (its browsers) reaches; an administrator registers
  // the bench's client; OIDC_RESOURCES makes O3J's access tokens JWTs.
  if (oidcWorkloads.length > 0) Object.assign(env, oidcServerEnv(`http://127.0.0.1:${port}`, runId))
  // An administrator to create the endpoint with, and the sink on loopback allowed.
  if (values.webhooks) Object.assign(env, webhookServerEnv(runId))
  for (const pair of values.env ?? []) {
    const at = pair.indexOf('=')
    if (at < 1) throw new Error(`--env takes KEY=VALUE, got ${pair}`)
    env[pair.slice(0, at)] = pair.slice(at + 1)
  }
  const serverOptions = {
    root,
    port,
    prefix: pinning.serverPrefix,
    env,
    nodeArgs: [
      ...(values.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values.profile)}`] : []),
      ...(values['node-arg'] ?? []),
    ],
    secretKey: randomBytes(32).toString('base64url'),
    workers,
  }
  const srv = await startServer(serverOptions)
  server = srv
  pinSelf(pinning)
  const processes = workers > 1 ? `, ${workers} workers` : ''
  log(`Kitsune pid ${srv.pid}${processes} at ${srv.baseUrl} (${mode}); ${pinning.note}; load: ${tool}`)

  const users = await seedUsers({
    baseUrl: srv.baseUrl,
    runId,
    users: MAX_CONNECTIONS,
    refreshSessions: REFRESH_CONNECTIONS,
    // W6's sessions only when W6 runs (each costs a login, an argon2id verify).
    mixedSessions: workloads.includes('W6') ? MIXED_CONNECTIONS : 0,
    warmupRefreshSessions: warmupSeconds > 0 ? REFRESH_CONNECTIONS : 0,
  })
  await checkAccessToken(srv.baseUrl, users[0] as SeededUser)
  const seededRssMiB = treeMemoryMiB(srv.pid, 'VmRSS') ?? null
  log(`seeded ${users.length} users; RSS ${seededRssMiB?.toFixed(1)} MiB`)
  let idleRssMiB: number | null = null
  if (idleSeconds > 0) {
    // V8 gives back the young generation that start-up and seeding grew only once the process has
    // been quiet for a while (its memory reducer): the RSS of a server waiting for traffic.
    await new Promise((done) => setTimeout(done, idleSeconds * 1000))
    idleRssMiB = treeMemoryMiB(srv.pid, 'VmRSS') ?? null
    log(`idle RSS after ${idleSeconds} s without requests: ${idleRssMiB?.toFixed(1)} MiB`)
  }

  let ctx: MeasureContext = { server: srv, users, runId, tool, pinning, ticksPerSecond, database, log }
  if (warmupSeconds > 0) {
    // A server that has run for a while has its request paths compiled by V8's optimising tier and
    // its connections' buffers grown: without this the first workload's tail is the JIT's.
    await warmUp(ctx, warmupSeconds)
    log(`warmed up: W4, W1, W5 (chains of its own) and W2, ${warmupSeconds} s each, not measured`)
  }
  const results: WorkloadReport[] = []
  // One argon2id verify alone, on the server's CPU while the server idles: right after W2, so the
  // logins and the verify they are compared with share a core and a moment (a VM's speed drifts).
  const timeVerifyAlone = (when: string) =>
    timeArgon2Verify(
      pinning.serverPrefix,
      pinning.serverPrefix.length > 0 ? `on CPU ${pinning.serverPrefix.at(-1)}, the server's, ${when}` : when,
    )
  let argon2Verify: BenchReport['argon2Verify'] | undefined
  let webhooks: WebhookFigures | undefined
  for (const id of workloads) {
    if (isOidcWorkload(id) && !ctx.oidc) {
      // Right before the first OIDC workload (the W part of a run is as without them): users sign
      // in through the pages, each sign-in a browser of its own.
      const oidc = await seedOidc({
        baseUrl: srv.baseUrl,
        runId,
        users,
        signedIn: OIDC_SIGNED_IN,
        refreshChains: OIDC_TOKEN_CONNECTIONS,
        warmupRefreshChains: warmupSeconds > 0 && workloads.includes('O2') ? OIDC_TOKEN_CONNECTIONS : 0,
      })
      await checkOidc(srv.baseUrl, oidc)
      ctx = { ...ctx, oidc }
      log(`OIDC: client ${oidc.clientId}, ${oidc.browsers.length} users signed in through /ui/sign-in`)
      if (warmupSeconds > 0) {
        await warmUpOidc(ctx, oidcWorkloads, warmupSeconds)
        log(`warmed up: ${oidcWorkloads.join(', ')}, ${warmupSeconds} s each, not measured`)
      }
    }
    results.push(...(await measure(id, ctx)))
    if (id === 'W3' && values.webhooks) {
      await new Promise((done) => setTimeout(done, 1000))
      const hooked = await measureWebhooks(ctx, seconds, results.at(-1) as WorkloadReport, workers)
      results.push(hooked.row)
      webhooks = hooked.figures
    }
    if (id === 'W2') argon2Verify = timeVerifyAlone('right after W2')
    await new Promise((done) => setTimeout(done, 1000))
  }
  const serverMemory = {
    seededRssMiB,
    idleRssMiB,
    idleSeconds,
    peakRssMiB: treeMemoryMiB(srv.pid, 'VmHWM') ?? null,
    endRssMiB: treeMemoryMiB(srv.pid, 'VmRSS') ?? null,
  }
  // The flood's 503 SERVER_BUSY are expected; anything else is worth Kitsune's own output.
  if (results.some((r) => (r.non2xx > 0 && r.id !== `${FLOOD}:W2`) || r.errors > 0)) {
    log(
      `non-2xx responses or errors: Kitsune's own output (warn and above) follows\n${srv.output().slice(-4000)}`,
    )
  }
  argon2Verify ??= timeVerifyAlone('after the workloads')
  // Start to ready with the migrations applied: the same server, restarted on its database.
  const startToReadyMs: number[] = []
  if (starts > 0 && workers === 1) {
    server = undefined
    await srv.stop()
    for (let i = 0; i < starts; i++) {
      const again = await startServer({ ...serverOptions, nodeArgs: values['node-arg'] ?? [] })
      server = again
      startToReadyMs.push(Math.round(again.readyMs))
      server = undefined
      await again.stop()
    }
    log(`start to ready (migrated database), ms: ${startToReadyMs.join(', ')}`)
  }
  const loadAtEnd = loadavg()[0] ?? 0
  await cleanup()
  return {
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    mode,
    durationSeconds: seconds,
    warmupSeconds,
    soakSeconds,
    workers,
    node: process.version,
    cpus,
    pinning: pinning.note,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    commit: gitCommit(),
    argon2Verify,
    startToReadyMs,
    server: serverMemory,
    workloads: results,
    ...(webhooks ? { webhooks } : {}),
  }
}

function gitCommit(): string | null {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
    // -dirty: the measured dist/ was built from uncommitted src/ changes.
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', 'src') ? '-dirty' : ''}`
  } catch {
    return null
  }
}

try {
  const report = await main()
  const file = writeReport(join(root, 'bench', 'results'), report)
  console.log(markdown(report))
  if (earlier && values.compare) console.log(`\n${compare(report, earlier, values.compare)}`)
  log(`wrote ${file}`)
} catch (error) {
  // A server that crashed or failed requests says why in its own output (warn and above).
  const output = server?.output()
  await cleanup().catch(() => undefined)
  log(error instanceof Error ? (error.stack ?? error.message) : String(error))
  if (output) log(`Kitsune's own output (warn and above), last part:\n${output.slice(-4000)}`)
  process.exitCode = 1
}
