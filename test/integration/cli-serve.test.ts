import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CliProcess,
  cliEnv,
  cliTargets,
  freePort,
  http,
  killAllCli,
  startCli,
  waitUntilReady,
} from '../helpers/cli-process.js'
import { createPostgresDatabase, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/test-targets.js'

// close-with-grace gives 10 s; a primary waits for its workers a little longer. Past this, it hung.
const EXIT_DEADLINE_MS = 30_000
const GENEROUS_LIMITS = {
  RATE_LIMIT_GLOBAL: '100000/1m',
  RATE_LIMIT_LOGIN: '100000/1m',
  RATE_LIMIT_REGISTER: '100000/1m',
}

afterAll(() => killAllCli())

/** The JSON log lines `serve` printed so far. */
function logLines(serve: CliProcess): Array<Record<string, unknown>> {
  return serve
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** The first log line matching `match`, waiting for it (mail goes out after the request's commit). */
async function waitForLog(
  serve: CliProcess,
  match: (line: Record<string, unknown>) => boolean,
  deadlineMs = 10_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + deadlineMs
  for (;;) {
    const line = logLines(serve).find(match)
    if (line) return line
    if (Date.now() > until) throw new Error(`no such log line within ${deadlineMs} ms:\n${serve.stdout()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Pids whose parent is `pid`, read from /proc (Linux). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid
      } catch {
        return false
      }
    })
    .map(Number)
}

describe.each(cliTargets)('kitsune serve (one process) on $name', (target) => {
  let dir: string
  let drop: (() => Promise<void>) | undefined
  let serve: CliProcess
  let base: string
  let metricsBase: string
  let port: number

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-serve-'))
    const database = await target.provision(dir)
    drop = database.drop
    const metricsPort = await freePort()
    port = await freePort()
    base = `http://127.0.0.1:${port}`
    metricsBase = `http://127.0.0.1:${metricsPort}`
    // No PUBLIC_URL: it defaults to the port Kitsune listens on. Info logs show the ready line and
    // the e-mails (SMTP_URL is unset, so they go to the log).
    serve = startCli(
      ['serve'],
      cliEnv(dir, {
        DATABASE_URL: database.url,
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'info',
      }),
    )
    await waitUntilReady(`${base}/health/ready`, serve)
  })
  afterAll(async () => {
    killAllCli()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('serves /metrics on METRICS_PORT and not on PORT', async () => {
    await http(`${base}/health/live`)
    const scraped = await http(`${metricsBase}/metrics`)
    expect(scraped.status).toBe(200)
    expect(scraped.body).toContain('# TYPE kitsune_logins_total counter')
    expect(scraped.body).toContain('route="/health/live"')
    expect((await http(`${base}/metrics`)).status).toBe(404)
    expect((await http(`${metricsBase}/health/live`)).status).toBe(404)
  })

  it('announces the API docs on PORT when PUBLIC_URL is unset, with the address and Node version', async () => {
    const ready = await waitForLog(serve, (line) => String(line.msg).startsWith('Kitsune ready'))
    expect(ready).toMatchObject({
      msg: `Kitsune ready: API docs at http://localhost:${port}/docs`,
      listening: base,
      node: process.version,
    })
  })

  it('links the verification e-mail to PORT when PUBLIC_URL is unset', async () => {
    const email = `port-link-${randomBytes(5).toString('hex')}@example.com`
    const registered = await http(`${base}/api/v1/auth/register`, {
      method: 'POST',
      body: { email, password: 'pw long enough 1' },
    })
    expect(registered.status).toBe(201)
    const mailed = await waitForLog(serve, (line) => (line.mail as { to?: string } | undefined)?.to === email)
    const text = (mailed.mail as { text: string }).text
    expect(text).toContain(`http://localhost:${port}/ui/verify-email?token=`)
  })

  it('exits 0 on SIGTERM, within the shutdown grace time', async () => {
    serve.child.kill('SIGTERM')
    const result = await serve.exited(EXIT_DEADLINE_MS)
    expect(result).toMatchObject({ code: 0, signal: null })
  })
})

describe.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)(
  'kitsune serve --workers 2 on PostgreSQL + Redis (needs TEST_DATABASE_URL and TEST_REDIS_URL)',
  () => {
    let dir: string
    let drop: (() => Promise<void>) | undefined
    let primary: CliProcess
    let base: string

    const me = (accessToken: string) =>
      http(`${base}/api/v1/users/me`, { headers: { authorization: `Bearer ${accessToken}` } })
    const loginAs = async (credentials: { email: string; password: string }) => {
      const response = await http(`${base}/api/v1/auth/login`, { method: 'POST', body: credentials })
      expect(response.status).toBe(200)
      return response.json<{ access_token: string; refresh_token: string }>()
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kitsune-cluster-'))
      const database = await createPostgresDatabase()
      drop = database.drop
      const port = await freePort()
      base = `http://127.0.0.1:${port}`
      primary = startCli(
        ['serve', '--workers', '2'],
        cliEnv(dir, {
          ...GENEROUS_LIMITS,
          DATABASE_URL: database.url,
          REDIS_URL: TEST_REDIS_URL as string,
          REDIS_KEY_PREFIX: `kitsune-test:${randomBytes(6).toString('hex')}:`,
          HOST: '127.0.0.1',
          PORT: String(port),
        }),
      )
      await waitUntilReady(`${base}/health/ready`, primary)
    })
    afterAll(async () => {
      killAllCli()
      await drop?.()
      if (dir) rmSync(dir, { recursive: true, force: true })
    })

    it('answers /health/ready with every check ok, Redis included', async () => {
      const response = await http(`${base}/health/ready`)
      expect(response.status).toBe(200)
      expect(response.json()).toEqual({
        status: 'ok',
        checks: { database: 'ok', redis: 'ok', migrations: 'ok' },
      })
    })

    it.skipIf(!existsSync('/proc/self/stat'))('runs as a primary with two worker processes', () => {
      expect(childrenOf(primary.child.pid as number)).toHaveLength(2)
    })

    it('honours a logout on every following request, whichever worker answers it', async () => {
      const credentials = {
        email: `cluster-${randomBytes(5).toString('hex')}@example.com`,
        password: 'pw long enough 1',
      }
      const registered = await http(`${base}/api/v1/auth/register`, { method: 'POST', body: credentials })
      expect(registered.status).toBe(201)
      const first = await loginAs(credentials)
      const second = await loginAs(credentials)
      // Fresh connections are dealt round-robin across the workers: each worker sees both tokens.
      for (let i = 0; i < 4; i++) {
        expect((await me(first.access_token)).status).toBe(200)
        expect((await me(second.access_token)).status).toBe(200)
      }
      const logout = await http(`${base}/api/v1/auth/logout`, {
        method: 'POST',
        body: { refresh_token: first.refresh_token },
        headers: { authorization: `Bearer ${first.access_token}` },
      })
      expect(logout.status).toBe(204)
      for (let i = 0; i < 6; i++) {
        expect((await me(first.access_token)).status).toBe(401)
        expect((await me(second.access_token)).status).toBe(200)
      }
    })

    it('the primary exits 0 on SIGTERM once its workers have drained', async () => {
      primary.child.kill('SIGTERM')
      const result = await primary.exited(EXIT_DEADLINE_MS)
      expect(result).toMatchObject({ code: 0, signal: null })
      expect(result.stderr).not.toContain('starting another')
    })
  },
)
