import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { uniqueEmail } from '../helpers/factories.js'
import { memoryMailer } from '../helpers/oidc.js'
import { hiddenField, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

const PASSWORD = 'a long enough passphrase'

describe.each(testTargets())('e-mails follow the account’s language ($name)', (target) => {
  let t: TestApp
  const mailer = memoryMailer()
  beforeAll(async () => {
    t = await buildTestApp({
      target,
      env: { PUBLIC_URL: 'https://id.example.test', BRAND_NAME: 'Acme ID' },
      kitsune: { mailer },
    })
  })
  afterAll(async () => t?.close())

  const lastMailTo = async (to: string) => {
    await t.kitsune.mailer.idle()
    return [...mailer.messages].reverse().find((message) => message.to === to)
  }

  it('writes in Spanish to an account made on the Spanish pages, with links that open Spanish pages', async () => {
    const browser = pageClient(t)
    const email = uniqueEmail('es')
    const form = await browser.get('/ui/sign-up?ui_locales=es')
    expect(form.body).toContain('lang="es"')
    const created = await browser.post('/ui/sign-up?ui_locales=es', {
      csrf: hiddenField(form.body, 'csrf') ?? '',
      email,
      password: PASSWORD,
    })
    expect(created.statusCode).toBe(303)
    await t.kitsune.mailer.idle()
    const verification = await lastMailTo(email)
    expect(verification?.subject).toBe('Confirma tu correo electrónico')
    expect(verification?.text).toMatch(/\/ui\/verify-email\?token=[^&\s]+&ui_locales=es/)
    expect(verification?.text).toContain('— Acme ID')
    expect(
      await t.kitsune.uow.read.users.localeOf(
        (await t.kitsune.uow.read.users.findCredentialsByEmail(email))?.id ?? '',
      ),
    ).toBe('es')

    const forgot = await browser.get('/ui/forgot-password')
    await browser.post('/ui/forgot-password', { csrf: hiddenField(forgot.body, 'csrf') ?? '', email })
    await t.kitsune.mailer.idle()
    expect((await lastMailTo(email))?.subject).toBe('Restablece tu contraseña')
  })

  it('keeps English for an account made through the JSON API', async () => {
    const email = uniqueEmail('en')
    const response = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      payload: { email, password: PASSWORD },
      headers: { 'accept-language': 'es' },
    })
    expect(response.statusCode).toBe(201)
    await t.kitsune.mailer.idle()
    expect((await lastMailTo(email))?.subject).toBe('Confirm your e-mail address')
    expect((await lastMailTo(email))?.text).not.toContain('ui_locales')
  })
})
