import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock } from '../../src/lib/clock.js'
import { createMailCheck, MAIL_CHECK_TTL_MS, verifySmtp } from '../../src/services/health.service.js'
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js'

describe('the mail check shown on the admin overview', () => {
  let smtp: TestSmtpServer
  beforeAll(async () => {
    smtp = await startSmtpServer()
  })
  afterAll(async () => smtp?.stop())

  it('says `log` without SMTP_URL, and never tries to connect', async () => {
    let calls = 0
    const check = createMailCheck({
      smtpUrl: undefined,
      clock: fixedClock('2026-01-01T00:00:00Z'),
      verify: async () => {
        calls++
      },
    })
    expect(await check.status()).toBe('log')
    expect(calls).toBe(0)
  })

  it('greets a real SMTP server (ok), keeps the answer for a minute, then sees it gone (down)', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z')
    const check = createMailCheck({ smtpUrl: smtp.url, clock })
    expect(await check.status()).toBe('ok')
    await smtp.stop()
    try {
      clock.advance(MAIL_CHECK_TTL_MS / 1000 - 1)
      expect(await check.status()).toBe('ok')
      clock.advance(1)
      expect(await check.status()).toBe('down')
    } finally {
      await smtp.start()
    }
    clock.advance(MAIL_CHECK_TTL_MS / 1000)
    expect(await check.status()).toBe('ok')
    expect(smtp.messages).toEqual([])
  })

  it('opens one connection for callers that ask at the same time', async () => {
    let calls = 0
    const check = createMailCheck({
      smtpUrl: 'smtp://mail.example.com',
      clock: fixedClock('2026-01-01T00:00:00Z'),
      verify: async () => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 20))
      },
    })
    expect(await Promise.all([check.status(), check.status(), check.status()])).toEqual(['ok', 'ok', 'ok'])
    expect(calls).toBe(1)
  })

  it('says `down` when the server does not answer in time, or the check fails', async () => {
    const clock = fixedClock('2026-01-01T00:00:00Z')
    const silent = createMailCheck({
      smtpUrl: 'smtp://mail.example.com',
      clock,
      timeoutMs: 50,
      verify: () => new Promise(() => {}),
    })
    const started = Date.now()
    expect(await silent.status()).toBe('down')
    expect(Date.now() - started).toBeLessThan(2000)
    const failing = createMailCheck({
      smtpUrl: 'smtp://mail.example.com',
      clock,
      verify: async () => {
        throw new Error('connection refused')
      },
    })
    expect(await failing.status()).toBe('down')
  })

  it('refuses a port where nothing listens within its timeout', async () => {
    await expect(verifySmtp('smtp://127.0.0.1:1', 1000)).rejects.toThrow()
  })
})
