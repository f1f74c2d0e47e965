import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
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
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js'

const RESET_SUBJECT = 'Reset your password'
const VERIFY_SUBJECT = 'Confirm your e-mail address'
/** A job claimed by the killed process is held for its lease (120 s) before another one runs it. */
const RESET_DEADLINE_MS = 180_000
const QUIET_AFTER_MS = 5_000

afterAll(() => killAllCli())

/**
 * Once forgot-password has answered 202, the reset e-mail is owed: a process SIGKILLed at that
 * moment, while SMTP is down, leaves the job in the database, and the next Kitsune on that database
 * sends the e-mail, exactly once, when SMTP is back.
 */
describe.each(cliTargets)('a reset e-mail survives kitsune serve being SIGKILLed, on $name', (target) => {
  let dir: string
  let drop: (() => Promise<void>) | undefined
  let smtp: TestSmtpServer
  let env: Record<string, string>
  let base: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-mail-crash-'))
    const database = await target.provision(dir)
    drop = database.drop
    smtp = await startSmtpServer()
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    env = cliEnv(dir, {
      DATABASE_URL: database.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      SMTP_URL: smtp.url,
      RATE_LIMIT_FORGOT: '1000/1m',
      RATE_LIMIT_REGISTER: '1000/1m',
      // A job held by the killed process is taken again after its lease: 5 s here, not a minute.
      JOBS_LEASE_SECONDS: '5',
    })
  })
  afterAll(async () => {
    killAllCli()
    await smtp?.stop()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const started: CliProcess[] = []
  let step = 'start'
  const serve = async (): Promise<CliProcess> => {
    const process = startCli(['serve'], env)
    started.push(process)
    await waitUntilReady(`${base}/health/ready`, process, 60_000)
    return process
  }

  it(
    'sends the reset e-mail exactly once after a restart',
    async () => {
      onTestFailed(() => {
        const output = started.map((p, i) =>
          `--- kitsune serve #${i + 1}:\n${p.stderr()}${p.stdout()}`.slice(-4000),
        )
        console.error(`failed at: ${step}\n${output.join('\n')}`)
      })
      step = 'first start'
      const email = `crash-${Date.now().toString(36)}@example.com`
      const first = await serve()
      const registered = await http(`${base}/api/v1/auth/register`, {
        method: 'POST',
        body: { email, password: 'crash test password 1' },
      })
      expect(registered.status).toBe(201)
      await smtp.waitForMail((mail) => mail.to.includes(email) && mail.subject === VERIFY_SUBJECT, 30_000)

      step = 'forgot and SIGKILL'
      await smtp.stop()
      const forgot = await http(`${base}/api/v1/auth/password/forgot`, { method: 'POST', body: { email } })
      const pid = first.child.pid as number
      process.kill(-pid, 'SIGKILL')
      expect(forgot.status).toBe(202)
      const killed = await first.exited(10_000)
      expect(killed.signal).toBe('SIGKILL')
      expect(smtp.mailsTo(email).filter((mail) => mail.subject === RESET_SUBJECT)).toEqual([])

      const lock = join(dir, 'db', 'kitsune.lock')
      if (existsSync(lock)) expect(readFileSync(lock, 'utf8').trim()).toBe(String(pid))

      step = 'second start'
      await smtp.start()
      const second = await serve()
      step = 'waiting for the reset e-mail'
      await smtp.waitForMail(
        (mail) => mail.to.includes(email) && mail.subject === RESET_SUBJECT,
        RESET_DEADLINE_MS,
      )
      await new Promise((resolve) => setTimeout(resolve, QUIET_AFTER_MS))
      expect(smtp.mailsTo(email).filter((mail) => mail.subject === RESET_SUBJECT)).toHaveLength(1)
      expect(smtp.mailsTo(email).filter((mail) => mail.subject === VERIFY_SUBJECT)).toHaveLength(1)

      step = 'SIGTERM'
      second.child.kill('SIGTERM')
      const stopped = await second.exited(30_000)
      expect(stopped.code).toBe(0)
    },
    RESET_DEADLINE_MS + 90_000,
  )
})
