import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_CSS } from '../../src/web/assets/admin.css.js'
import { CONSOLE_SCRIPT, PASSKEY_SCRIPT } from '../../src/web/assets/assets.js'
import { CONSOLE_JS } from '../../src/web/assets/console.js.js'
import { pageCspWithScripts } from '../../src/web/csp.js'
import { en } from '../../src/web/i18n/en.js'
import { es } from '../../src/web/i18n/es.js'
import { PAGE_CSP } from '../../src/web/web.plugin.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { type TestTarget, testTargets } from '../helpers/test-targets.js'

const CSRF_COOKIE = '__Host-kitsune-csrf'

/** What every page response must be: HTML in its language, no inline script or style, page CSP. */
function expectPage(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  lang = 'en',
) {
  expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
  expect(response.body.startsWith('<!doctype html><html lang="')).toBe(true)
  expect(response.body).toContain(`<html lang="${lang}">`)
  expect(response.body).toMatch(/<main id="main"/)
  expect(response.body).toContain('href="#main"')
  expect(response.body).not.toMatch(/<script/i)
  expect(response.body).not.toMatch(/<style|\sstyle=/i)
  expect(response.headers['content-security-policy']).toBe(PAGE_CSP)
  expect(response.headers['referrer-policy']).toBe('no-referrer')
  expect(response.headers['cache-control']).toBe('no-store')
  expect(response.headers['x-frame-options']).toBe('DENY')
}

describe('message catalogues', () => {
  it('has every English key in Spanish, none extra, and no empty message', () => {
    expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort())
    for (const catalogue of [en, es])
      for (const message of Object.values(catalogue)) expect(message.trim()).not.toBe('')
  })

  it('uses the same {placeholders} in both languages', () => {
    const places = (message: string) => (message.match(/\{[a-z_]+\}/g) ?? []).sort()
    for (const key of Object.keys(en) as Array<keyof typeof en>)
      expect(places(es[key])).toEqual(places(en[key]))
  })
})

describe('the admin console stylesheet', () => {
  it('scopes every rule to the console pages, so no other page inherits its table or form styles', () => {
    const selectors = [...ADMIN_CSS.matchAll(/([^{}]+)\{[^{}]*\}/g)]
      .flatMap((match) => (match[1] ?? '').split(','))
      .map((selector) => selector.trim())
      .filter((selector) => selector !== '' && !selector.startsWith('@media'))
    expect(selectors.length).toBeGreaterThan(60)
    const unscoped = selectors.filter(
      (selector) =>
        !/^(:where\(\.admin\) |body\.admin |\.admin-(header|main|badge|who|links)\b)/.test(selector),
    )
    expect(unscoped).toEqual([])
  })
})

describe.each(testTargets())('pages on $name', (target: TestTarget) => {
  let t: TestApp
  let browser: PageClient
  beforeAll(async () => {
    t = await buildTestApp({ target, env: { PUBLIC_URL: 'https://kitsune.test' } })
    browser = pageClient(t)
  })
  afterAll(async () => t?.close())

  it.each([
    ['/ui/forgot-password', 200, en['forgot.title']],
    ['/ui/forgot-password/sent', 200, en['forgot.sent_title']],
    ['/ui/reset-password?token=abc', 200, en['reset.title']],
    ['/ui/reset-password', 400, en['link.invalid_title']],
    ['/ui/reset-password/done', 200, en['reset.done_title']],
    ['/ui/verify-email?token=abc', 200, en['verify.title']],
    ['/ui/verify-email', 400, en['link.invalid_title']],
    ['/ui/verify-email/done', 200, en['verify.done_title']],
    ['/ui/error', 200, en['error.title']],
    ['/ui/no-such-page', 404, en['error.not_found_title']],
    ['/ui/reset-password/nothing/here', 404, en['error.not_found_title']],
  ])('GET %s renders %i "%s" as a page', async (url, status, title) => {
    const response = await browser.get(url)
    expect(response.statusCode).toBe(status)
    expectPage(response)
    expect(response.body).toContain(`<h1>${title}</h1>`)
    expect(response.body).toContain(`<title>${title} – Kitsune</title>`)
  })

  it('keeps answering the JSON API with problem+json and its allow-nothing CSP', async () => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/no-such-route' })
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.headers['content-security-policy']).toContain("default-src 'none'")
    expect(response.headers['content-security-policy']).not.toContain('style-src')
    const form = await t.inject({
      method: 'POST',
      url: '/api/v1/auth/password/forgot',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%40example.com',
    })
    expect(form.statusCode).toBe(415)
  })

  it('gives a browser a __Host- CSRF cookie, Secure, HttpOnly, SameSite=Lax, Path=/, and keeps it', async () => {
    const fresh = pageClient(t)
    const first = await fresh.get('/ui/forgot-password')
    const setCookie = String(first.headers['set-cookie'])
    expect(setCookie).toMatch(
      /^__Host-kitsune-csrf=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/,
    )
    const token = fresh.cookie(CSRF_COOKIE)
    expect(hiddenField(first.body, 'csrf')).toBe(token)
    const second = await fresh.get('/ui/forgot-password')
    expect(second.headers['set-cookie']).toBeUndefined()
    expect(hiddenField(second.body, 'csrf')).toBe(token)
  })

  it('gives two browsers different CSRF tokens', async () => {
    const a = pageClient(t)
    const b = pageClient(t)
    await a.get('/ui/forgot-password')
    await b.get('/ui/forgot-password')
    expect(a.cookie(CSRF_COOKIE)).toBeDefined()
    expect(a.cookie(CSRF_COOKIE)).not.toBe(b.cookie(CSRF_COOKIE))
  })

  it('links the stylesheet at a hashed URL served as CSS with a long cache', async () => {
    const page = await browser.get('/ui/forgot-password')
    const href = page.body.match(/<link rel="stylesheet" href="([^"]+)"/)?.[1]
    expect(href).toMatch(/^\/ui\/assets\/kitsune\.[0-9a-f]{12}\.css$/)
    const css = await t.inject({ method: 'GET', url: href as string })
    expect(css.statusCode).toBe(200)
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    expect(css.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(css.body).toContain(':focus-visible')
    expect((await t.inject({ method: 'GET', url: '/ui/assets/kitsune.000000000000.css' })).statusCode).toBe(
      404,
    )
  })

  it('serves the console script at a hashed URL as JavaScript with a long cache; pages allow no script', async () => {
    expect(PAGE_CSP).not.toContain('script-src')
    expect(pageCspWithScripts(PAGE_CSP)).toBe(
      "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    expect(CONSOLE_SCRIPT.path).toMatch(/^\/ui\/assets\/console\.[0-9a-f]{12}\.js$/)
    const js = await t.inject({ method: 'GET', url: CONSOLE_SCRIPT.path })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(js.body).toBe(CONSOLE_JS)
    expect(js.body).not.toMatch(/\beval\b|new Function|innerHTML/)
    expect((await t.inject({ method: 'GET', url: '/ui/assets/console.000000000000.js' })).statusCode).toBe(
      404,
    )
    // A page that does not ask for a script keeps the policy without script-src.
    const page = await browser.get('/ui/forgot-password')
    expect(page.headers['content-security-policy']).toBe(PAGE_CSP)
    expect(page.body).not.toMatch(/<script/i)
  })

  it('serves the passkey script (the WebAuthn library and Kitsune glue) only to the pages that offer passkeys', async () => {
    expect(PASSKEY_SCRIPT.path).toMatch(/^\/ui\/assets\/passkey\.[0-9a-f]{12}\.js$/)
    const js = await t.inject({ method: 'GET', url: PASSKEY_SCRIPT.path })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect(js.body).toContain('SimpleWebAuthnBrowser')
    expect(js.body).toContain('data-passkey')
    expect(js.body).not.toMatch(/\beval\b|new Function|innerHTML/)
    const page = await browser.get('/ui/sign-in')
    expect(page.headers['content-security-policy']).toBe(pageCspWithScripts(PAGE_CSP))
    expect(page.body).toContain(`<script src="${PASSKEY_SCRIPT.path}" defer></script>`)
    expect(page.body).toContain('autocomplete="username webauthn"')
    // The button is there for the script to show; without JavaScript it stays hidden.
    expect(page.body).toMatch(
      /<button id="passkey" class="button secondary" type="submit" data-passkey-start[^>]* hidden[^>]*>/,
    )
  })

  it('speaks Spanish for Accept-Language: es, by q-value, and falls back to English', async () => {
    const spanish = await browser.get('/ui/forgot-password', {
      'accept-language': 'fr-CA, es-MX;q=0.8, en;q=0.5',
    })
    expectPage(spanish, 'es')
    expect(spanish.body).toContain(`<h1>${es['forgot.title']}</h1>`)
    const french = await browser.get('/ui/forgot-password', { 'accept-language': 'fr' })
    expectPage(french, 'en')
    const preferEnglish = await browser.get('/ui/forgot-password', { 'accept-language': 'es;q=0.3, en' })
    expectPage(preferEnglish, 'en')
  })

  it('lets ui_locales win over Accept-Language and keeps it in the form and links', async () => {
    const response = await browser.get('/ui/forgot-password?ui_locales=es', { 'accept-language': 'en' })
    expectPage(response, 'es')
    expect(response.body).toContain(`<h1>${es['forgot.title']}</h1>`)
    expect(response.body).toContain('action="/ui/forgot-password?ui_locales=es"')
    expect(response.body).toContain('href="/ui/sign-in?ui_locales=es"')
    const english = await browser.get('/ui/forgot-password?ui_locales=de%20en', { 'accept-language': 'es' })
    expectPage(english, 'en')
  })

  it('renders the not-found page in Spanish too', async () => {
    const response = await browser.get('/ui/nowhere', { 'accept-language': 'es' })
    expect(response.statusCode).toBe(404)
    expectPage(response, 'es')
    expect(response.body).toContain(es['error.not_found_title'])
  })

  it('escapes what the visitor typed when the form comes back with an error', async () => {
    await browser.get('/ui/forgot-password')
    const response = await browser.post('/ui/forgot-password', {
      csrf: browser.cookie(CSRF_COOKIE) ?? '',
      email: '"><script>alert(1)</script>',
    })
    expect(response.statusCode).toBe(422)
    expectPage(response)
    expect(response.body).toContain('value="&quot;>&lt;script>alert(1)&lt;/script>"')
  })
})

describe.each(testTargets())('pages behind a plain-http PUBLIC_URL on $name', (target: TestTarget) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, env: { PUBLIC_URL: 'http://id.example.com' } })
  })
  afterAll(async () => t?.close())

  it('drops the __Host- prefix and Secure (a browser would never send them back) and warns once at start', async () => {
    const browser = pageClient(t)
    const page = await browser.get('/ui/forgot-password')
    expect(String(page.headers['set-cookie'])).toMatch(
      /^kitsune-csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
    )
    const warnings = t.logs.filter((line) => line.level === 'warn' && String(line.msg).includes('__Host-'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ public_url: 'http://id.example.com' })
    // The form still works with the unprefixed cookie.
    const posted = await browser.post('/ui/forgot-password', {
      csrf: browser.cookie('kitsune-csrf') ?? '',
      email: 'someone@example.com',
    })
    expect(posted.statusCode).toBe(303)
  })
})
