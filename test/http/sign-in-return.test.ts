import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { safeReturnTo } from '../../src/web/pages/sign-in.page.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser } from '../helpers/factories.js'
import { hiddenField, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

describe('safeReturnTo: only Kitsune’s own pages', () => {
  it('keeps paths under /ui/ and refuses everything that could leave the site', () => {
    expect(safeReturnTo('/ui/admin/users?q=ada')).toBe('/ui/admin/users?q=ada')
    for (const bad of [
      'https://evil.example/',
      '//evil.example/ui/',
      '/ui//evil.example',
      '/\\evil.example',
      '/ui/\\evil',
      '/api/v1/users/me',
      '/ui/sign-in?return_to=/ui/admin',
      'javascript:alert(1)',
      `/ui/${'a'.repeat(600)}`,
    ])
      expect(safeReturnTo(bad), bad).toBeUndefined()
  })
})

describe.each(testTargets())('direct sign-in with return_to and reauth ($name)', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, env: { PUBLIC_URL: 'https://id.example.test' } })
  })
  afterAll(async () => t?.close())

  it('returns to the page that asked, asks a signed-in person again on reauth=1, and ignores foreign targets', async () => {
    const user = await registerUser(t)
    const browser = pageClient(t)
    const form = await browser.get('/ui/sign-in?return_to=/ui/account')
    expect(hiddenField(form.body, 'return_to')).toBe('/ui/account')
    const signedIn = await browser.post('/ui/sign-in', {
      csrf: hiddenField(form.body, 'csrf') ?? '',
      email: user.email,
      password: user.password,
      return_to: '/ui/account',
    })
    expect(signedIn.statusCode).toBe(303)
    expect(signedIn.headers.location).toBe('/ui/account')

    // Signed in: without reauth the page passes straight on; with it, the form comes back.
    const passing = await browser.get('/ui/sign-in?return_to=/ui/account')
    expect(passing.headers.location).toBe('/ui/account')
    const again = await browser.get('/ui/sign-in?return_to=/ui/account&reauth=1')
    expect(again.statusCode).toBe(200)
    expect(again.body).toContain(user.email)

    const foreign = await browser.post('/ui/sign-in', {
      csrf: hiddenField(again.body, 'csrf') ?? '',
      email: user.email,
      password: user.password,
      return_to: 'https://evil.example/',
    })
    expect(foreign.headers.location).toBe('/ui/account')
  })
})
