import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { en } from '../../src/web/i18n/en.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { chromiumBinary, launchChromium, RECORD_CSP_VIOLATIONS } from '../helpers/chromium.js'
import { registerUser, type TestUser } from '../helpers/factories.js'
import { createClient, freePort } from '../helpers/oidc.js'
import { type RelyingParty, startRelyingParty } from '../helpers/relying-party.js'
import { pgliteTarget } from '../helpers/test-targets.js'

const AXE_SOURCE = readFileSync(join(process.cwd(), 'node_modules/axe-core/axe.min.js'), 'utf8')
const SCREENSHOTS = join(process.cwd(), 'test-results/screenshots')
const DESKTOP = { width: 1000, height: 760 }
const MFA_ACR = 'urn:kitsune:acr:mfa'

/**
 * Passkeys in Chromium with the DevTools virtual authenticator (a platform authenticator: CTAP2,
 * internal transport, resident keys, user verification), against Kitsune on http://localhost
 * (browsers refuse WebAuthn on IP-address origins). Every ceremony goes through Kitsune's own
 * pages and script, as a person's would.
 */
describe.skipIf(chromiumBinary.skip)(`passkeys in Chromium${chromiumBinary.note}`, () => {
  let t: TestApp
  let browser: Browser
  let issuer: string
  let rp: RelyingParty

  beforeAll(async () => {
    const port = await freePort()
    issuer = `http://localhost:${port}`
    t = await buildTestApp({ target: pgliteTarget, env: { PUBLIC_URL: issuer } })
    await t.app.listen({ port, host: '127.0.0.1' })
    rp = await startRelyingParty(issuer)
    const client = await createClient(t, {
      client_name: 'Example Notes',
      redirect_uris: [rp.redirectUri],
      scope: 'openid profile email',
      first_party: true,
    })
    await rp.addClient('notes', client.clientId, client.clientSecret)
    browser = await launchChromium()
    mkdirSync(SCREENSHOTS, { recursive: true })
  })
  afterAll(async () => {
    await browser?.close()
    await rp?.close()
    await t?.close()
  })

  interface Authenticator {
    readonly cdp: CDPSession
    readonly id: string
    credentials(): Promise<Array<{ credentialId: string; rpId: string; signCount: number }>>
  }

  /**
   * The virtual authenticator answers the sign-in page's autofill request (conditional mediation)
   * at once, where a person would first pick the passkey in the e-mail field's list. Browsers
   * without autofill support are the default here, so the button is what signs in; the autofill
   * test turns it back on.
   */
  const NO_AUTOFILL = `PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false)`

  /** A fresh browser with its own virtual authenticator, and the CSP violations its pages report. */
  const withBrowser = async (
    use: (page: Page, authenticator: Authenticator, context: BrowserContext) => Promise<void>,
    options: { autofill?: boolean } = {},
  ) => {
    const context = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' })
    await context.addInitScript(RECORD_CSP_VIOLATIONS)
    if (!options.autofill) await context.addInitScript(NO_AUTOFILL)
    try {
      const page = await context.newPage()
      const cdp = await context.newCDPSession(page)
      await cdp.send('WebAuthn.enable')
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'internal',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      })
      const authenticator: Authenticator = {
        cdp,
        id: authenticatorId,
        credentials: async () =>
          (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials.map((c) => ({
            credentialId: c.credentialId,
            rpId: c.rpId ?? '',
            signCount: c.signCount,
          })),
      }
      await use(page, authenticator, context)
    } finally {
      await context.close()
    }
  }

  const path = (page: Page) => new URL(page.url()).pathname
  const landOn = async (page: Page, pathname: string, what: string) => {
    try {
      await page.waitForURL((url) => url.origin === issuer && url.pathname === pathname, {
        timeout: 10_000,
        waitUntil: 'load',
      })
    } catch {
      const text = (
        (await page
          .locator('main')
          .textContent({ timeout: 1000 })
          .catch(() => null)) ?? ''
      ).slice(0, 400)
      throw new Error(`never reached ${what}; still at ${page.url()}\n${text}`)
    }
  }
  const violations = (page: Page) =>
    page.evaluate(() => (window as unknown as { cspViolations: unknown[] }).cspViolations)

  /** axe-core finds no serious or critical problem; the page is saved for the documentation. */
  const inspect = async (page: Page, name: string) => {
    await page.evaluate(AXE_SOURCE)
    const found = (await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe
      return (await axe.run()).violations
    })) as Array<{ id: string; impact: string }>
    expect(
      found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id),
      `axe on ${name}`,
    ).toEqual([])
    expect(await violations(page), `CSP violations on ${name}`).toEqual([])
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
  }

  const passwordSignIn = async (page: Page, user: TestUser) => {
    await page.getByLabel(en['sign_in.email_label']).fill(user.email)
    await page.getByLabel(en['sign_in.password_label']).fill(user.password)
    await page.getByRole('button', { name: en['sign_in.submit'], exact: true }).click()
  }

  const signOut = async (page: Page) => {
    await page.goto(`${issuer}/ui/sign-out`)
    await page.getByRole('button', { name: en['sign_out.submit'] }).click()
    await landOn(page, '/ui/sign-out/done', 'the signed-out page')
  }

  const passkeyButton = (page: Page) => page.getByRole('button', { name: en['passkey.sign_in'] })

  /** The account's sessions as stored: the methods each sign-in used. */
  const sessionMethods = async (userId: string) => {
    const rows = await t.kitsune.database.db
      .selectFrom('sessions')
      .select('amr')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute()
    return rows.map((row) => row.amr)
  }

  const auditActions = async (userId: string) => {
    const rows = await t.kitsune.uow.read.auditLog.list({ limit: 200 })
    return rows
      .filter(
        (row) => row.actor_id === userId || (row.metadata as { user_id?: string } | null)?.user_id === userId,
      )
      .map((row) => row.action)
  }

  /** Registers a passkey named `name` through the account console (after the password sign-in). */
  const addPasskeyInConsole = async (page: Page, name: string) => {
    await page.goto(`${issuer}/ui/account/passkeys`)
    await landOn(page, '/ui/account/passkeys', 'the passkeys page')
    await page.getByLabel(en['account.passkey_name_label']).fill(name)
    await page.getByRole('button', { name: en['account.passkey_add_submit'] }).click()
    await page.getByText(en['account.done_passkey_added']).waitFor({ timeout: 10_000 })
    await landOn(page, '/ui/account/passkeys', 'the passkeys page after adding')
    expect(await page.locator('table').textContent()).toContain(name)
  }

  it('registers a passkey in the account console, signs in with it without a password, uses it as the second factor, and removes it', async () => {
    const user = await registerUser(t)
    await withBrowser(async (page, authenticator) => {
      await page.goto(`${issuer}/ui/sign-in?return_to=/ui/account/passkeys`)
      await inspect(page, 'passkey-sign-in')
      // Without a passkey the button is there (the browser has WebAuthn); the password signs in.
      await passkeyButton(page).waitFor({ state: 'visible' })
      await passwordSignIn(page, user)
      await landOn(page, '/ui/account/passkeys', 'the passkeys page')

      await addPasskeyInConsole(page, 'Work laptop')
      const stored = await t.kitsune.uow.read.passkeys.listByUser(user.id)
      expect(stored.map((p) => p.name)).toEqual(['Work laptop'])
      const [held] = await authenticator.credentials()
      expect(held?.rpId).toBe('localhost')
      expect(Buffer.from(held?.credentialId ?? '', 'base64').toString('base64url')).toBe(
        stored[0]?.credential_id,
      )
      expect((await t.kitsune.uow.read.users.getById(user.id)).mfa_enabled).toBe(true)
      await inspect(page, 'account-passkeys')

      // Passwordless: sign out, then the passkey alone signs in (user verification, so two factors).
      await signOut(page)
      await page.goto(`${issuer}/ui/sign-in`)
      await passkeyButton(page).click()
      await landOn(page, '/ui/account', 'the account after a passkey sign-in')
      expect(await sessionMethods(user.id)).toContainEqual(['hwk', 'user'])
      const afterPasswordless = await t.kitsune.uow.read.passkeys.listByUser(user.id)
      expect(Number(afterPasswordless[0]?.sign_count)).toBeGreaterThan(Number(stored[0]?.sign_count))
      expect(afterPasswordless[0]?.last_used_at).not.toBeNull()

      // Second factor: the password now asks for the passkey, which finishes the sign-in.
      await signOut(page)
      await page.goto(`${issuer}/ui/sign-in`)
      await passwordSignIn(page, user)
      await page.getByRole('heading', { name: en['mfa.title'] }).waitFor({ timeout: 10_000 })
      // Two-step is on through the passkey alone: the step offers the passkey, no code field.
      expect(await page.getByLabel(en['mfa.code_label']).count()).toBe(0)
      await inspect(page, 'passkey-mfa')
      await page.getByRole('button', { name: en['passkey.use_for_mfa'] }).click()
      await landOn(page, '/ui/account', 'the account after the passkey step')
      expect(await sessionMethods(user.id)).toContainEqual(['pwd', 'hwk', 'user'])

      // The last second factor of an account with two-step on cannot go; once two-step is off it can.
      await page.goto(`${issuer}/ui/account/passkeys`)
      await page.getByRole('button', { name: en['account.passkey_remove_submit'] }).first().click()
      await page.getByText(en['account.error_passkey_last_factor']).first().waitFor({ timeout: 10_000 })
      expect(await t.kitsune.uow.read.passkeys.listByUser(user.id)).toHaveLength(1)
      // Turning two-step verification off (the password is enough: there is no app) keeps the passkey.
      await page.goto(`${issuer}/ui/account/two-factor`)
      await page.getByLabel(en['account.disable_password_only_label']).fill(user.password)
      await page.getByRole('button', { name: en['account.disable_submit'] }).click()
      await page.getByText(en['account.done_disabled']).first().waitFor({ timeout: 10_000 })
      expect((await t.kitsune.uow.read.users.getById(user.id)).mfa_enabled).toBe(false)
      expect(await t.kitsune.uow.read.passkeys.listByUser(user.id)).toHaveLength(1)
      await page.goto(`${issuer}/ui/account/passkeys`)
      await page.getByRole('button', { name: en['account.passkey_remove_submit'] }).first().click()
      await landOn(page, '/ui/account/passkeys', 'the passkeys page after removing')
      await page.getByText(en['account.passkeys_none']).first().waitFor({ timeout: 10_000 })
      expect(await t.kitsune.uow.read.passkeys.listByUser(user.id)).toEqual([])

      // The authenticator still holds the key, but Kitsune no longer knows it: refused.
      await signOut(page)
      await page.goto(`${issuer}/ui/sign-in`)
      await passkeyButton(page).click()
      await page.getByText(en['passkey.error']).first().waitFor({ timeout: 10_000 })
      // The sign-in page again (answering the form's POST), with the refusal.
      expect(path(page)).toBe('/ui/sign-in/passkey')
      expect(await page.locator('h1').textContent()).toBe(en['sign_in.title'])
      expect(await auditActions(user.id)).toEqual(
        expect.arrayContaining(['passkey.registered', 'passkey.used', 'passkey.removed', 'mfa.enabled']),
      )
    })
  })

  it('refuses a second authenticator that was never registered with Kitsune', async () => {
    const user = await registerUser(t)
    await withBrowser(async (page) => {
      await page.goto(`${issuer}/ui/sign-in?return_to=/ui/account/passkeys`)
      await passwordSignIn(page, user)
      await landOn(page, '/ui/account/passkeys', 'the passkeys page')
      await addPasskeyInConsole(page, 'Phone')
    })
    // Another browser and authenticator: it holds a passkey for this site that it made itself (as
    // a cloned or foreign one would be), never registered here.
    await withBrowser(async (page, authenticator) => {
      await page.goto(`${issuer}/ui/sign-in`)
      await page.evaluate(async (userId) => {
        await navigator.credentials.create({
          publicKey: {
            challenge: crypto.getRandomValues(new Uint8Array(32)),
            rp: { id: 'localhost', name: 'Elsewhere' },
            user: { id: new TextEncoder().encode(userId), name: 'someone', displayName: 'someone' },
            pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
            authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
          },
        })
      }, user.id)
      expect(await authenticator.credentials()).toHaveLength(1)
      const before = await t.kitsune.uow.read.auditLog.list({ limit: 1, action: 'user.login_failed' })
      await passkeyButton(page).click()
      await page.getByText(en['passkey.error']).first().waitFor({ timeout: 10_000 })
      // The sign-in page again (answering the form's POST), with the refusal.
      expect(path(page)).toBe('/ui/sign-in/passkey')
      expect(await page.locator('h1').textContent()).toBe(en['sign_in.title'])
      const [failure] = await t.kitsune.uow.read.auditLog.list({ limit: 1, action: 'user.login_failed' })
      expect(failure?.id).not.toBe(before[0]?.id)
      expect(failure?.metadata).toMatchObject({ method: 'passkey', reason: 'unknown_credential' })
    })
  })

  it("offers the passkey in the e-mail field's autofill (conditional mediation), which signs in", async () => {
    const user = await registerUser(t)
    await withBrowser(
      async (page) => {
        await page.goto(`${issuer}/ui/sign-in?return_to=/ui/account/passkeys`)
        await passwordSignIn(page, user)
        await landOn(page, '/ui/account/passkeys', 'the passkeys page')
        await addPasskeyInConsole(page, 'Tablet')
        await signOut(page)
        // The page's autofill request is answered without a click (as when a person picks the
        // passkey in the e-mail field's list).
        await page.goto(`${issuer}/ui/sign-in`)
        await landOn(page, '/ui/account', 'the account after the autofill sign-in')
        expect(await sessionMethods(user.id)).toContainEqual(['hwk', 'user'])
      },
      { autofill: true },
    )
  })

  it('completes an OpenID Connect sign-in whose acr_values demand MFA with a passkey alone', async () => {
    const user = await registerUser(t)
    await withBrowser(async (page) => {
      await page.goto(`${issuer}/ui/sign-in?return_to=/ui/account/passkeys`)
      await passwordSignIn(page, user)
      await landOn(page, '/ui/account/passkeys', 'the passkeys page')
      await addPasskeyInConsole(page, 'Laptop')
      await signOut(page)

      await page.goto(rp.startUrl('notes', { acr_values: MFA_ACR }))
      await landOn(page, '/ui/sign-in', 'the sign-in page of the application')
      await passkeyButton(page).click()
      await page.waitForURL((url) => url.origin === rp.origin && url.pathname === '/callback', {
        timeout: 10_000,
      })
      expect(await page.locator('#signed-in').textContent()).toBe(`Signed in as ${user.email}`)
      expect(await page.locator('#acr').textContent()).toBe(MFA_ACR)
      expect(await page.locator('#amr').textContent()).toBe('hwk user')
      expect(rp.failures).toEqual([])
    })
  })
})
