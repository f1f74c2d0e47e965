import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { pgliteTarget } from '../helpers/test-targets.js'

describe.skipIf(chromiumBinary.skip)(`/docs in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let browser: Browser
  let page: Page
  const errors: string[] = []

  beforeAll(async () => {
    t = await buildTestApp({ target: pgliteTarget })
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' })
    browser = await launchChromium()
    page = await browser.newPage()
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`)
    })
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`))
    await page.addInitScript(RECORD_CSP_VIOLATIONS)
    const response = await page.goto(`${base}/docs`)
    expect(response?.status()).toBe(200)
    await page.locator('.opblock').first().waitFor()
  })
  afterAll(async () => {
    await browser?.close()
    await t?.close()
  })

  it('renders the operations and opens one with no console error and no CSP violation', async () => {
    expect(await page.locator('.opblock').count()).toBeGreaterThan(5)
    const register = page.locator('.opblock', { hasText: '/api/v1/auth/register' }).first()
    await register.locator('.opblock-summary').click()
    await register.locator('.opblock-body').waitFor()

    expect(await page.evaluate('window.cspViolations')).toEqual([])
    expect(errors).toEqual([])
  })

  it("shows Kitsune's name as the page title and in the top bar, not Fastify's or Swagger's logo", async () => {
    expect(await page.title()).toBe('Kitsune API')
    const logoLink = page.locator('.topbar .topbar-wrapper > a.link')
    expect(await logoLink.isVisible()).toBe(true)
    expect((await logoLink.textContent())?.trim()).toBe('Kitsune')
    // Fastify's logo is an <img> swapped into that link; Swagger's is an <svg>.
    expect(await logoLink.locator('img, svg').count()).toBe(0)
    expect(await page.locator('.topbar img').count()).toBe(0)
  })
})
