import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { BenchDatabase } from './infra.js'
import { Browser } from './oidc-seed.js'
import { clockTicksPerSecond, cpuTicks } from './proc.js'
import { buildIfStale, freePort, startServer } from './server.js'

const USAGE = `Usage: npm run bench:console -- [--users 100000] [--requests 200] [--concurrency 4] [--pages /ui/admin,/ui/admin/users,…]

Server CPU per console page render, with --users accounts in PostgreSQL. Starts the compiled server
(production mode) on a throwaway database on BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres; the role needs CREATEDB) and BENCH_REDIS_URL (default
redis://127.0.0.1:6379/0, a key prefix of its own), loads the accounts with generate_series, signs in
as the administrator through /ui/sign-in, then for each page makes --requests GET requests (after 20
unmeasured ones) at --concurrency and reads the server's CPU time from /proc. A page that does not
answer 200 is reported and skipped. Writes bench/results/console-<time>.json.`

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '4' },
    pages: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const USERS = Number(values.users)
const REQUESTS = Number(values.requests)
const CONCURRENCY = Number(values.concurrency)
if (![USERS, REQUESTS, CONCURRENCY].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error(USAGE)
  process.exit(2)
}
const PAGES = (
  values.pages ??
  [
    '/ui/account',
    '/ui/admin',
    '/ui/admin/users',
    '/ui/admin/users?q=hopper',
    '/ui/admin/users?q=qz',
    '/ui/admin/roles',
    '/ui/admin/clients',
    '/ui/admin/audit',
  ].join(',')
)
  .split(',')
  .map((page) => page.trim())
  .filter(Boolean)

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const log = (message: string) => console.log(`[console] ${message}`)
const runId = randomBytes(4).toString('hex')
const adminEmail = `console-admin-${runId}@bench.example.com`
const adminPassword = `console-admin-password-${runId}`

interface PageResult {
  page: string
  status: number
  requests?: number
  serverCpuMsPerRequest?: number
  p50Ms?: number
  p99Ms?: number
}

async function seedUsers(url: string, count: number): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    // Not a usable hash: these accounts are for the lists and searches, not for signing in.
    await client.query(
      `INSERT INTO users (id, email, full_name, password_hash, created_at, updated_at, password_changed_at)
       SELECT gen_random_uuid(), 'user-' || i || '@company-' || (i % 800) || '.example.com',
              'Person ' || CASE WHEN i % 100 = 7 THEN 'Hopper' ELSE 'Surname' || (i % 100) END,
              'not-a-hash', now() - (i || ' seconds')::interval, now(), now()
       FROM generate_series(1, $1::int) AS i`,
      [count],
    )
    await client.query(
      `INSERT INTO user_roles (user_id, role_name) SELECT id, 'user' FROM users WHERE email LIKE 'user-%@company-%'`,
    )
    await client.query('ANALYZE')
  } finally {
    await client.end()
  }
}

async function measure(browser: Browser, baseUrl: string, pid: number, page: string): Promise<PageResult> {
  const first = await browser.open(`${baseUrl}${page}`)
  if (first.status !== 200 || first.redirectedTo) return { page, status: first.status }
  for (let i = 0; i < 20; i++) await browser.open(`${baseUrl}${page}`)
  const latencies: number[] = []
  let next = 0
  const ticksBefore = cpuTicks(pid) ?? 0
  const worker = async () => {
    while (next++ < REQUESTS) {
      const started = performance.now()
      const answer = await browser.open(`${baseUrl}${page}`)
      if (answer.status !== 200) throw new Error(`${page} answered ${answer.status}`)
      latencies.push(performance.now() - started)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const ticks = (cpuTicks(pid) ?? 0) - ticksBefore
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return {
    page,
    status: 200,
    requests: latencies.length,
    serverCpuMsPerRequest: ((ticks / clockTicksPerSecond()) * 1000) / latencies.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  }
}

async function main(): Promise<void> {
  if (buildIfStale(root)) log('built dist/')
  const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0'
  const database = await BenchDatabase.create(adminUrl, `console_${runId}`)
  const port = await freePort()
  const baseUrl = `http://127.0.0.1:${port}`
  let stop: (() => Promise<unknown>) | undefined
  try {
    const server = await startServer({
      root,
      port,
      prefix: [],
      secretKey: randomBytes(32).toString('base64url'),
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `kitsune-bench-console-${runId}:`,
        PUBLIC_URL: baseUrl,
        ADMIN_EMAIL: adminEmail,
        ADMIN_PASSWORD: adminPassword,
      },
    })
    stop = () => server.stop()
    const seeding = performance.now()
    await seedUsers(database.url, USERS)
    log(`${USERS} users loaded in ${((performance.now() - seeding) / 1000).toFixed(1)} s`)
    const browser = new Browser(baseUrl)
    const form = await browser.open(`${baseUrl}/ui/sign-in`)
    const signedIn = await browser.submit(form, '/ui/sign-in', { email: adminEmail, password: adminPassword })
    if (signedIn.status !== 200) throw new Error(`admin sign-in answered ${signedIn.status}`)
    const results: PageResult[] = []
    for (const page of PAGES) {
      const result = await measure(browser, baseUrl, server.pid, page)
      results.push(result)
      log(
        result.serverCpuMsPerRequest === undefined
          ? `${page}: ${result.status}, skipped`
          : `${page}: ${result.serverCpuMsPerRequest.toFixed(2)} ms server CPU, p50 ${result.p50Ms?.toFixed(1)} ms, p99 ${result.p99Ms?.toFixed(1)} ms`,
      )
    }
    const file = join(
      root,
      'bench',
      'results',
      `console-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}Z.json`,
    )
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(
      file,
      `${JSON.stringify({ users: USERS, requests: REQUESTS, concurrency: CONCURRENCY, results }, null, 2)}\n`,
    )
    console.log('\n| page | server CPU ms/render | p50 ms | p99 ms |\n| --- | ---: | ---: | ---: |')
    for (const r of results)
      console.log(
        r.serverCpuMsPerRequest === undefined
          ? `| ${r.page} | (answered ${r.status}) | | |`
          : `| ${r.page} | ${r.serverCpuMsPerRequest.toFixed(2)} | ${r.p50Ms?.toFixed(1)} | ${r.p99Ms?.toFixed(1)} |`,
      )
    log(`wrote ${file}`)
  } finally {
    await stop?.()
    await database.drop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
