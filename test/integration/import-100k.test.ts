import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliEnv, killAllCli, startCli } from '../helpers/cli-process.js'
import { createPostgresDatabase, TEST_DATABASE_URL } from '../helpers/test-targets.js'

/**
 * A 100,000-user Keycloak realm export (≈ 100 MB, pretty-printed as kc.sh writes it) imports
 * through the CLI while the file is streamed: the child's peak RSS is reported, not asserted
 * (README's operations section holds the measured numbers). On PostgreSQL when TEST_DATABASE_URL
 * is set (CI), else on a file-backed PGlite.
 */
const USERS = 100_000

async function writeRealmExport(path: string, count: number) {
  const out = createWriteStream(path)
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain')
  }
  // One real pbkdf2-sha256 credential shared by everyone: the import checks its form, not the password.
  const salt = randomBytes(16)
  const credential = {
    type: 'password',
    secretData: JSON.stringify({
      value: pbkdf2Sync('a shared password', salt, 27_500, 64, 'sha256').toString('base64'),
      salt: salt.toString('base64'),
      additionalParameters: {},
    }),
    credentialData: JSON.stringify({
      hashIterations: 27_500,
      algorithm: 'pbkdf2-sha256',
      additionalParameters: {},
    }),
  }
  const run = randomBytes(3).toString('hex')
  await write('{\n  "realm" : "bench",\n  "enabled" : true,\n  "users" : [ ')
  for (let i = 0; i < count; i++) {
    const user = {
      id: crypto.randomUUID(),
      createdTimestamp: 1_700_000_000_000 + i,
      username: `user${i}`,
      enabled: i % 50 !== 0,
      emailVerified: i % 3 !== 0,
      firstName: 'Person',
      lastName: String(i),
      email: `user${i}-${run}@bench.example`,
      credentials: [credential],
      realmRoles: ['default-roles-bench', i % 10 === 0 ? 'editor' : 'offline_access'],
      notBefore: 0,
      groups: [],
    }
    await write(`${i === 0 ? '' : ', '}${JSON.stringify(user, null, 2).replaceAll('\n', '\n  ')}`)
  }
  await write(' ],\n  "clients" : [ ]\n}\n')
  out.end()
  await once(out, 'finish')
}

/** The child's peak resident set (VmHWM), read from /proc while it runs. */
function peakRssMiB(pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : undefined
  } catch {
    return undefined
  }
}

describe(`kitsune import keycloak: ${USERS.toLocaleString('en-US')} users, streamed`, () => {
  let dir: string
  let database: { url: string; drop(): Promise<void> }
  const file = () => join(dir, 'realm-export.json')

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-import-100k-'))
    database = TEST_DATABASE_URL
      ? await createPostgresDatabase()
      : { url: `pglite://${join(dir, 'db')}`, drop: async () => {} }
    await writeRealmExport(file(), USERS)
  }, 120_000)

  afterAll(async () => {
    killAllCli()
    await database?.drop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('imports every user and reports its peak memory', async () => {
    const started = performance.now()
    const child = startCli(['import', 'keycloak', file()], cliEnv(dir, { DATABASE_URL: database.url }))
    let peak = 0
    const timer = setInterval(() => {
      peak = Math.max(peak, (child.child.pid && peakRssMiB(child.child.pid)) || 0)
    }, 100)
    const result = await child.exited(600_000).finally(() => clearInterval(timer))
    const seconds = (performance.now() - started) / 1000
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain(`${USERS} read; ${USERS} created`)
    expect(result.stdout).toContain('roles created: editor')
    const megabytes = statSync(file()).size / 1024 / 1024
    console.log(
      `import keycloak ${USERS} users (${megabytes.toFixed(0)} MiB file, ${TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}): ` +
        `${seconds.toFixed(1)} s with start-up, ${Math.round(USERS / seconds)} users/s, peak RSS ${peak.toFixed(0)} MiB`,
    )
  }, 600_000)
})
