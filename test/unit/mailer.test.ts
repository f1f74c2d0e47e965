import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMailer, type MailerLogger, type MailMessage } from '../../src/mail/mailer.js'

interface LogEntry {
  level: 'info' | 'warn' | 'error'
  obj: Record<string, unknown>
  msg: string
}

function recordingLogger(): MailerLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = []
  const record = (level: LogEntry['level']) => (obj: object, msg: string) =>
    entries.push({ level, obj: obj as Record<string, unknown>, msg })
  return { entries, info: record('info'), warn: record('warn'), error: record('error') }
}

const message: MailMessage = {
  to: 'ada@example.com',
  subject: 'Reset your password',
  text: 'Choose a new password: http://kitsune.test/ui/reset-password?token=secret-token-123',
  html: '<p><a href="http://kitsune.test/ui/reset-password?token=secret-token-123">Choose</a></p>',
}

describe('mailer in log mode (SMTP_URL unset)', () => {
  let outbox: string
  beforeEach(async () => {
    outbox = await mkdtemp(join(tmpdir(), 'kitsune-outbox-'))
  })
  afterEach(async () => rm(outbox, { recursive: true, force: true }))

  const build = (logBodies: boolean, withOutbox = true) => {
    const logger = recordingLogger()
    const outboxDir = withOutbox ? outbox : undefined
    const mailer = createMailer({
      smtpUrl: undefined,
      from: 'Kitsune <no-reply@kitsune.test>',
      logger,
      outboxDir,
      logBodies,
    })
    return { logger, mailer }
  }

  it('logs recipient, subject and text when logBodies is true', async () => {
    const { logger, mailer } = build(true)
    expect(mailer.kind).toBe('log')
    mailer.send(message)
    await mailer.idle()
    expect(logger.entries).toHaveLength(1)
    const [entry] = logger.entries
    expect(entry?.level).toBe('info')
    expect(entry?.msg).toBe('e-mail not sent (SMTP_URL is unset): written to the log')
    expect(entry?.obj.mail).toMatchObject({ to: message.to, subject: message.subject, text: message.text })
    await mailer.close()
  })

  it('logs recipient and subject but no body when logBodies is false', async () => {
    const { logger, mailer } = build(false)
    mailer.send(message)
    await mailer.idle()
    expect(logger.entries).toHaveLength(1)
    const mail = logger.entries[0]?.obj.mail as Record<string, unknown>
    expect(mail).toMatchObject({ to: message.to, subject: message.subject })
    expect(mail).not.toHaveProperty('text')
    expect(JSON.stringify(logger.entries)).not.toContain('secret-token-123')
    await mailer.close()
  })

  it('writes each message as an .eml file into the outbox and names the file in the log', async () => {
    const { logger, mailer } = build(false)
    mailer.send(message)
    mailer.send({ ...message, to: 'grace@example.com', subject: 'Your password was changed' })
    await mailer.idle()
    const files = (await readdir(outbox)).sort()
    expect(files).toHaveLength(2)
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true)
    const parsed = await Promise.all(files.map(async (f) => simpleParser(await readFile(join(outbox, f)))))
    const reset = parsed.find((p) => p.subject === message.subject)
    expect(reset?.from?.value).toEqual([{ name: 'Kitsune', address: 'no-reply@kitsune.test' }])
    expect(reset?.to).toMatchObject({ text: message.to })
    expect(reset?.text?.trim()).toBe(message.text)
    expect(reset?.html).toBe(message.html)
    expect(parsed.find((p) => p.subject === 'Your password was changed')?.to).toMatchObject({
      text: 'grace@example.com',
    })
    const logged = logger.entries.map((e) => (e.obj.mail as { file?: string }).file)
    expect(logged.sort()).toEqual(files.map((f) => join(outbox, f)))
    await mailer.close()
  })

  it('writes no file and names none in the log without an outbox directory', async () => {
    const { logger, mailer } = build(true, false)
    mailer.send(message)
    await mailer.idle()
    expect(logger.entries[0]?.obj.mail).not.toHaveProperty('file')
    expect(await readdir(outbox)).toEqual([])
    await mailer.close()
  })
})
