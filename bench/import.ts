import { type ChildProcess, spawn } from 'node:child_process'
import { pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { BackendCpuTracker, BenchDatabase } from './infra.js'
import { clockTicksPerSecond } from './proc.js'

const USAGE = `Usage: npm run bench:import -- [--users 100000] [--target postgres|pglite] [--keep-file]

Import throughput and memory. Writes a Keycloak realm export (kc.sh export --users realm_file) of
--users users to a temporary file, streamed and pretty-printed as Keycloak writes it: each user with
a pbkdf2-sha256 password credential (one real hash, reused: the import does not verify hashes),
realm roles from a small set, 5 % with an OTP credential, plus one service account (skipped). Then
runs the real CLI against a fresh database: \`kitsune migrate\`, \`kitsune import keycloak FILE\`
(timed; peak RSS of the importing process) and the same import again (idempotent: nothing changes).

  --target postgres   a database kitsune_bench_import_<random> on TEST_DATABASE_URL (default
                      postgres://postgres@127.0.0.1:5432/postgres; the role needs CREATEDB), dropped
                      at the end (Ctrl-C included)
  --target pglite     the embedded database in a temporary KITSUNE_DATA_DIR (in the importing process:
                      its RSS includes the database), removed at the end
  --keep-file         leave the generated export in place (its path is printed)

The CLI runs from dist/cli/main.js when dist/ is at least as new as src/ (npm run build), otherwise
from src/cli/main.ts through tsx's loader; the report says which. It prints the load average before
and after: measure on an otherwise idle machine.`

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '100000' },
    target: { type: 'string', default: 'postgres' },
    'keep-file': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}
const USERS = Number(values.users)
const target = values.target
if (!Number.isInteger(USERS) || USERS < 1 || (target !== 'postgres' && target !== 'pglite')) {
  console.error(USAGE)
  process.exit(2)
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const runId = randomBytes(4).toString('hex')
const log = (message: string) => process.stderr.write(`bench:import: ${message}\n`)
const MiB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// The Keycloak realm export

const REALM = 'bench'
/** Realm roles handed out, with the share of users holding each (default-roles-bench: everyone). */
const ROLE_SHARES: Array<[string, number]> = [
  ['offline_access', 0.2],
  ['uma_authorization', 0.2],
  ['Support Agent', 0.1],
  ['billing', 0.05],
  ['auditors', 0.01],
]
const OTP_SHARE = 0.05
const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim']
const LAST = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Perlman',
  'Lee',
]

/**
 * Jackson's DefaultPrettyPrinter, as Keycloak's exporter uses it: `"key" : value`, two-space
 * indentation, arrays opened on the same line (`[ {`, `[ "a", "b" ]`, `[ ]`).
 */
function pretty(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]'
    if (value.every((item) => item === null || typeof item !== 'object'))
      return `[ ${value.map((item) => JSON.stringify(item)).join(', ')} ]`
    return `[ ${value.map((item) => pretty(item, indent)).join(', ')} ]`
  }
  if (value !== null && typeof value === 'object') {
    const inner = `${indent}  `
    const entries = Object.entries(value).map(
      ([key, item]) => `${inner}${JSON.stringify(key)} : ${pretty(item, inner)}`,
    )
    return entries.length === 0 ? '{ }' : `{\n${entries.join(',\n')}\n${indent}}`
  }
  return JSON.stringify(value)
}

/** One real Keycloak pbkdf2-sha256 credential (27,500 iterations, 512-bit key), shared by every user. */
function passwordCredential(): { secretData: string; credentialData: string } {
  const salt = randomBytes(16)
  const key = pbkdf2Sync('correct horse battery staple', salt, 27_500, 64, 'sha256')
  return {
    secretData: JSON.stringify({
      value: key.toString('base64'),
      salt: salt.toString('base64'),
      additionalParameters: {},
    }),
    credentialData: JSON.stringify({
      hashIterations: 27_500,
      algorithm: 'pbkdf2-sha256',
      additionalParameters: {},
    }),
  }
}

const OTP_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

function otpSecret(): string {
  const bytes = randomBytes(20)
  let text = ''
  for (const byte of bytes) text += OTP_ALPHABET[byte % OTP_ALPHABET.length]
  return text
}

/** A deterministic pseudo-random fraction per (user, salt): the same file shape on every run. */
function share(index: number, salt: number): number {
  let x = (index * 2654435761 + salt * 40503) >>> 0
  x = (x ^ (x >>> 16)) >>> 0
  x = Math.imul(x, 0x45d9f3b) >>> 0
  x = (x ^ (x >>> 16)) >>> 0
  return x / 2 ** 32
}

function user(index: number, password: { secretData: string; credentialData: string }, created: number) {
  const first = FIRST[index % FIRST.length] as string
  const last = LAST[Math.floor(index / FIRST.length) % LAST.length] as string
  const username = `${first.toLowerCase()}.${last.toLowerCase()}.${index}`
  const credentials: unknown[] = [
    { id: randomUUID(), type: 'password', userLabel: 'My password', createdDate: created, ...password },
  ]
  if (share(index, 1) < OTP_SHARE) {
    credentials.push({
      id: randomUUID(),
      type: 'otp',
      userLabel: 'Phone',
      createdDate: created,
      secretData: JSON.stringify({ value: otpSecret() }),
      credentialData: JSON.stringify({
        subType: 'totp',
        digits: 6,
        counter: 0,
        period: 30,
        algorithm: 'HmacSHA1',
      }),
    })
  }
  const realmRoles = [`default-roles-${REALM}`]
  ROLE_SHARES.forEach(([role, fraction], i) => {
    if (share(index, 10 + i) < fraction) realmRoles.push(role)
  })
  return {
    id: randomUUID(),
    username,
    firstName: first,
    lastName: last,
    email: `${username}@example.com`,
    emailVerified: share(index, 2) < 0.9,
    createdTimestamp: created,
    enabled: share(index, 3) < 0.98,
    totp: credentials.length > 1,
    credentials,
    disableableCredentialTypes: [],
    requiredActions: [],
    realmRoles,
    notBefore: 0,
    groups: [],
  }
}

/** Writes the realm file user by user (never holding more than one chunk of users in memory). */
async function writeRealmExport(path: string, count: number): Promise<void> {
  const out = createWriteStream(path, { highWaterMark: 4 * MiB })
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain')
  }
  const roleNames = [`default-roles-${REALM}`, ...ROLE_SHARES.map(([name]) => name)]
  const prelude = pretty(
    {
      id: randomUUID(),
      realm: REALM,
      notBefore: 0,
      defaultSignatureAlgorithm: 'RS256',
      enabled: true,
      sslRequired: 'external',
      registrationAllowed: false,
      passwordPolicy: 'hashAlgorithm(pbkdf2-sha256)',
      roles: {
        realm: roleNames.map((name) => ({
          id: randomUUID(),
          name,
          description: name.startsWith('default-roles-') ? `\${role_default-roles}` : '',
          composite: name.startsWith('default-roles-'),
          clientRole: false,
          containerId: REALM,
          attributes: {},
        })),
        client: {},
      },
      groups: [],
      defaultRole: { id: randomUUID(), name: `default-roles-${REALM}`, composite: true, clientRole: false },
      requiredCredentials: ['password'],
      otpPolicyType: 'totp',
      otpPolicyAlgorithm: 'HmacSHA1',
      otpPolicyDigits: 6,
      otpPolicyPeriod: 30,
    },
    '',
  )
  // The realm object without its closing brace, then "users" : [ … ], then the keys after it.
  await write(`${prelude.slice(0, -2)},\n  "users" : [ `)
  const password = passwordCredential()
  const start = Date.UTC(2021, 0, 1)
  let chunk: string[] = []
  for (let i = 0; i < count; i++) {
    chunk.push(pretty(user(i, password, start + i * 60_000), '  '))
    if (chunk.length === 1000) {
      await write(`${i >= 1000 ? ', ' : ''}${chunk.join(', ')}`)
      chunk = []
    }
  }
  const serviceAccount = pretty(
    {
      id: randomUUID(),
      username: 'service-account-backend',
      emailVerified: false,
      createdTimestamp: start,
      enabled: true,
      serviceAccountClientId: 'backend',
      credentials: [],
      realmRoles: [`default-roles-${REALM}`],
      groups: [],
    },
    '  ',
  )
  chunk.push(serviceAccount)
  await write(`${count >= 1000 ? ', ' : ''}${chunk.join(', ')} ],\n`)
  await write(
    `  "scopeMappings" : [ ],\n  "clients" : [ ],\n  "browserFlow" : "browser",\n  "keycloakVersion" : "26.2.0"\n}\n`,
  )
  out.end()
  await once(out, 'finish')
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  return newest
}

/** dist/cli/main.js when it is at least as new as src/, else src/cli/main.ts through tsx. */
function cliCommand(): { argv: string[]; label: string } {
  const built = join(root, 'dist', 'cli', 'main.js')
  if (existsSync(built) && newestMtime(join(root, 'dist')) >= newestMtime(join(root, 'src')))
    return { argv: [built], label: 'dist/cli/main.js' }
  return {
    argv: ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts')],
    label: 'src/cli/main.ts (tsx loader)',
  }
}

const TIME = '/usr/bin/time'
const haveTime = existsSync(TIME)

interface CliRun {
  code: number | null
  seconds: number
  stdout: string
  stderr: string
  /** Peak resident set size of the CLI process, MiB. */
  peakRssMiB: number | null
  /** User + system CPU of the CLI process, seconds (null without /usr/bin/time). */
  cpuSeconds: number | null
  /** CPU of the PostgreSQL backends serving the database, seconds (null: PGlite or unreadable). */
  dbCpuSeconds: number | null
}

function vmHwmMiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

/**
 * Runs the CLI with `args`; peak RSS and CPU from `/usr/bin/time -v` when present (exact), otherwise
 * VmHWM polled every 100 ms (misses at most the last 100 ms).
 */
async function runCli(args: string[], env: NodeJS.ProcessEnv, database?: BenchDatabase): Promise<CliRun> {
  const cli = cliCommand()
  const command = [process.execPath, ...cli.argv, ...args]
  const child: ChildProcess = haveTime
    ? spawn(TIME, ['-v', ...command], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command[0] as string, command.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text
  })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text
  })
  const tracker = database ? new BackendCpuTracker(database) : undefined
  await tracker?.start()
  let polled: number | undefined
  const poll = haveTime
    ? undefined
    : setInterval(() => {
        const value = child.pid ? vmHwmMiB(child.pid) : undefined
        if (value !== undefined) polled = Math.max(polled ?? 0, value)
      }, 100)
  const started = performance.now()
  // 'close': the process has exited and its stdout and stderr are read to the end.
  const [code] = (await once(child, 'close')) as [number | null]
  const seconds = (performance.now() - started) / 1000
  clearInterval(poll)
  const dbTicks = (await tracker?.stop()) ?? null
  let peakRssMiB = polled ?? null
  let cpuSeconds: number | null = null
  if (haveTime) {
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
    const user = /User time \(seconds\): ([\d.]+)/.exec(stderr)
    const system = /System time \(seconds\): ([\d.]+)/.exec(stderr)
    if (rss) peakRssMiB = Number(rss[1]) / 1024
    if (user && system) cpuSeconds = Number(user[1]) + Number(system[1])
    stderr = stderr.replace(/\tCommand being timed:[\s\S]*$/, '')
  }
  return {
    code,
    seconds,
    stdout,
    stderr,
    peakRssMiB,
    cpuSeconds,
    dbCpuSeconds: dbTicks === null ? null : dbTicks / clockTicksPerSecond(),
  }
}

// ---------------------------------------------------------------------------------------------

const workDir = mkdtempSync(join(tmpdir(), 'kitsune-bench-import-'))
const file = join(workDir, `${REALM}-realm.json`)
let database: BenchDatabase | undefined

async function cleanup(): Promise<void> {
  const db = database
  database = undefined
  if (db) await db.drop().catch((error: Error) => log(`could not drop ${db.name}: ${error.message}`))
  if (values['keep-file']) rmSync(join(workDir, 'data'), { recursive: true, force: true })
  else rmSync(workDir, { recursive: true, force: true })
}
process.once('SIGINT', () => {
  log('interrupted: dropping the bench database and the temporary files')
  void cleanup().finally(() => process.exit(130))
})

const fmt = (value: number | null, digits = 1) =>
  value === null
    ? '—'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** The import's own duration, from the CLI's summary line (`(12.3 s, … records/s)`): no start-up. */
function importSeconds(run: CliRun): number | null {
  const match = /\(([\d.]+) s, \d+ records\/s\)/.exec(run.stdout)
  return match ? Number(match[1]) : null
}

/** The count before `word` in the CLI's summary line (`2500 created`, `0 unchanged`). */
function counted(run: CliRun, word: string): number | undefined {
  const match = new RegExp(`(\\d+) ${word}`).exec(run.stdout)
  return match ? Number(match[1]) : undefined
}

function summaryLine(run: CliRun): string {
  return run.stdout.trim().split('\n')[0]?.replace(`${file}`, 'FILE') ?? ''
}

async function main(): Promise<void> {
  const cpus = availableParallelism()
  const loadBefore = loadavg()
  log(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${cpus} CPUs`)

  const genStarted = performance.now()
  await writeRealmExport(file, USERS)
  const genSeconds = (performance.now() - genStarted) / 1000
  const fileBytes = statSync(file).size
  log(
    `wrote ${file}: ${USERS.toLocaleString('en-US')} users, ${fmt(fileBytes / MiB)} MiB in ${fmt(genSeconds)} s`,
  )

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    SECRET_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    KITSUNE_DATA_DIR: join(workDir, 'data'),
  }
  if (target === 'postgres') {
    const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
    database = await BenchDatabase.create(adminUrl, `import_${runId}`)
    env.DATABASE_URL = database.url
    log(`database ${database.name}`)
  } else log(`PGlite in ${env.KITSUNE_DATA_DIR}`)

  const cli = cliCommand()
  log(`running ${cli.label}`)
  const migrate = await runCli(['migrate'], env, database)
  if (migrate.code !== 0)
    throw new Error(`migrate exited ${migrate.code}: ${migrate.stderr}${migrate.stdout}`)

  const runs: Array<{ label: string; run: CliRun }> = []
  for (const label of ['import', 're-run']) {
    log(`${label}…`)
    const run = await runCli(['import', 'keycloak', file], env, database)
    if (run.code !== 0) throw new Error(`${label} exited ${run.code}: ${run.stderr}${run.stdout}`)
    log(summaryLine(run))
    runs.push({ label, run })
  }
  const [first, rerun] = runs.map(({ run }) => run)
  if (first && counted(first, 'created') !== USERS)
    throw new Error(`the import did not create ${USERS} users: ${first.stdout}`)
  if (rerun && (!/nothing changed/.test(rerun.stdout) || counted(rerun, 'unchanged') !== USERS))
    throw new Error(`the re-run changed something: ${rerun.stdout}`)
  const loadAfter = loadavg()

  const rows = runs.map(({ label, run }) => [
    label,
    fmt(run.seconds, 2),
    fmt(USERS / run.seconds, 0),
    fmt(importSeconds(run), 2),
    importSeconds(run) ? fmt(USERS / (importSeconds(run) as number), 0) : '—',
    fmt(run.peakRssMiB),
    fmt(run.cpuSeconds, 2),
    fmt(run.dbCpuSeconds, 2),
  ])
  const header = [
    'run',
    'wall s',
    'users/s',
    'import s',
    'users/s (import)',
    'peak RSS MiB',
    'CLI CPU s',
    'PostgreSQL CPU s',
  ]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`

  console.log(`\nKitsune import bench — ${new Date().toISOString()}`)
  console.log(
    `target ${target}${database ? ` (${database.name})` : ''}; CLI ${cli.label}; node ${process.version}`,
  )
  console.log(
    `${cpus} CPUs; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
  )
  console.log(
    `file: Keycloak realm export, ${USERS.toLocaleString('en-US')} users + 1 service account, ${fmt(fileBytes / MiB)} MiB (${fmt(fileBytes / USERS, 0)} bytes/user), written in ${fmt(genSeconds)} s`,
  )
  console.log(
    `migrate (fresh database): ${fmt(migrate.seconds, 2)} s, peak RSS ${fmt(migrate.peakRssMiB)} MiB`,
  )
  console.log(
    `peak RSS: ${haveTime ? '/usr/bin/time -v (maximum resident set size)' : '/proc/<pid>/status VmHWM polled every 100 ms'}${target === 'pglite' ? '; PGlite runs inside the CLI process, so it includes the database' : ''}`,
  )
  console.log(
    "users/s: --users over the CLI process's wall time (start-up, connecting and closing included); import s: the CLI's own figure (reading and writing only)\n",
  )
  console.log(line(header))
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`)
  for (const row of rows) console.log(line(row))
  for (const { label, run } of runs)
    console.log(
      `\n${label}: ${summaryLine(run)}${run.stdout.includes('nothing changed') ? ' — nothing changed' : ''}`,
    )
  if (values['keep-file']) console.log(`\nfile kept: ${file}`)
}

try {
  await main()
} finally {
  await cleanup()
}
