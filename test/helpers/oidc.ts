import { createServer } from 'node:net'
import * as oidc from 'openid-client'
import type { ClientMetadataInput } from '../../src/auth/client-metadata.js'
import type { KitsuneOptions } from '../../src/kitsune.js'
import type { Clock } from '../../src/lib/clock.js'
import type { Mailer, MailMessage } from '../../src/mail/mailer.js'
import { buildTestApp, type TestApp } from './build-test-app.js'
import type { ProvisionedTarget, TestTarget } from './test-targets.js'

/** A free TCP port on the loopback interface (the issuer URL must be known before Kitsune starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface OidcTestServer extends TestApp {
  readonly issuer: string
  readonly provisioned: ProvisionedTarget
}

/** Kitsune listening on a loopback port with PUBLIC_URL (the issuer) pointing at it. */
export async function startOidcServer(
  target: TestTarget,
  env: Record<string, string> = {},
  provisioned?: ProvisionedTarget,
): Promise<OidcTestServer> {
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const t = await buildTestApp({ target, env: { PUBLIC_URL: issuer, ...env }, provisioned })
  await t.app.listen({ port, host: '127.0.0.1' })
  return Object.assign(t, { issuer })
}

/** Registers a client through Kitsune's client service; returns its id and (once-shown) secret. */
export async function createClient(t: TestApp, metadata: ClientMetadataInput) {
  const created = await t.kitsune.services.clients.create(null, { client_name: 'Test app', ...metadata })
  return { clientId: created.client_id, clientSecret: created.client_secret }
}

/** openid-client's configuration for a client, by discovery, allowing plain http on loopback. */
export async function discover(
  issuer: string,
  clientId: string,
  clientSecret?: string,
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  const auth = clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None()
  return oidc.discovery(new URL(issuer), clientId, { ...metadata }, auth, {
    execute: [oidc.allowInsecureRequests],
  })
}

export interface Browser {
  /** Follows redirects until one leaves the issuer (the redirect URI) or a page answers. */
  open(url: string, init?: { method?: string; form?: Record<string, string> }): Promise<BrowserResult>
  /** Submits the page's form whose action contains `actionPart`, with its hidden fields and `fields`. */
  submit(page: BrowserResult, actionPart: string, fields?: Record<string, string>): Promise<BrowserResult>
  cookies: Map<string, string>
}

export interface BrowserResult {
  status: number
  url: string
  html: string
  /** Set when the last redirect pointed outside the issuer. */
  redirectedTo?: string
}

/** A cookie-keeping HTTP client that behaves like a browser with JavaScript turned off. */
export function browser(issuer: string, headers: Record<string, string> = {}): Browser {
  const cookies = new Map<string, string>()
  const origin = new URL(issuer).origin
  const send = async (url: string, method: string, body?: string): Promise<Response> => {
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...(cookie ? { cookie } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body,
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') cookies.delete(name)
      else cookies.set(name, value)
    }
    return response
  }
  const self: Browser = {
    cookies,
    async open(url, init = {}) {
      let method = init.method ?? 'GET'
      let body = init.form ? new URLSearchParams(init.form).toString() : undefined
      let current = url
      for (let hops = 0; hops < 20; hops++) {
        const response = await send(current, method, body)
        const location = response.headers.get('location')
        if (response.status >= 300 && response.status < 400 && location) {
          const next = new URL(location, current).href
          await response.arrayBuffer()
          if (new URL(next).origin !== origin)
            return { status: response.status, url: current, html: '', redirectedTo: next }
          current = next
          method = 'GET'
          body = undefined
          continue
        }
        return { status: response.status, url: current, html: await response.text() }
      }
      throw new Error('too many redirects')
    },
    async submit(page, actionPart, fields = {}) {
      const forms = [...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)]
      const form = forms.find((match) => (match[1] ?? '').includes(actionPart))
      if (!form)
        throw new Error(`no form posting to ${actionPart} on ${page.url}:\n${page.html.slice(0, 2000)}`)
      const hidden: Record<string, string> = {}
      for (const input of (form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
        const name = /name="([^"]*)"/.exec(input[0])?.[1]
        const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? ''
        if (name) hidden[name] = value.replaceAll('&amp;', '&').replaceAll('&quot;', '"')
      }
      const action = new URL((form[1] ?? '').replaceAll('&amp;', '&'), page.url).href
      return self.open(action, { method: 'POST', form: { ...hidden, ...fields } })
    },
  }
  return self
}

/** Runs the authorization request in the browser, signing in on Kitsune's page; returns the callback URL. */
export async function signInThroughPages(
  b: Browser,
  authorizationUrl: URL,
  user: { email: string; password: string },
  options: { totp?: () => string; consent?: boolean } = {},
): Promise<URL> {
  let page = await b.open(authorizationUrl.href)
  if (!page.redirectedTo && page.url.includes('/ui/sign-in'))
    page = await b.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
  if (!page.redirectedTo && page.html.includes('name="mfa_token"')) {
    if (!options.totp) throw new Error('a second factor was asked for')
    page = await b.submit(page, '/ui/sign-in/mfa', { code: options.totp() })
  }
  if (!page.redirectedTo && page.url.includes('/ui/consent') && options.consent !== false)
    page = await b.submit(page, '/ui/consent', {})
  if (!page.redirectedTo)
    throw new Error(`no redirect to the client: ${page.status} ${page.url}\n${page.html.slice(0, 3000)}`)
  return new URL(page.redirectedTo)
}

/** Like startOidcServer, with Kitsune's clock and service options (a mailer) chosen by the test. */
export async function startOidcServerWith(
  target: TestTarget,
  options: {
    env?: Record<string, string>
    clock?: Clock
    kitsune?: Omit<KitsuneOptions, 'clock' | 'logger'>
  } = {},
): Promise<OidcTestServer> {
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const t = await buildTestApp({
    target,
    env: { PUBLIC_URL: issuer, ...options.env },
    clock: options.clock,
    kitsune: options.kitsune,
  })
  await t.app.listen({ port, host: '127.0.0.1' })
  return Object.assign(t, { issuer })
}

/**
 * Real time plus an offset the test moves forward. Kitsune's TOTP checks follow it (so a test can
 * step past a used code), while the protocol engine, which reads Date.now, stays close to it.
 */
export function offsetClock(): Clock & { advance(seconds: number): void } {
  let offsetMs = 0
  return {
    now: () => new Date(Date.now() + offsetMs),
    advance(seconds) {
      offsetMs += seconds * 1000
    },
  }
}

/** A mailer that keeps every message in memory (tests read the links they carry). */
export function memoryMailer(): Mailer & { readonly messages: MailMessage[] } {
  const messages: MailMessage[] = []
  const pending = new Set<Promise<void>>()
  return {
    kind: 'log',
    messages,
    send(message) {
      messages.push(message)
    },
    async deliver(message) {
      messages.push(message)
    },
    defer(task) {
      const run = task()
        .catch(() => {})
        .finally(() => pending.delete(run))
      pending.add(run)
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending])
    },
    async close() {
      await this.idle()
    },
  }
}

export interface PendingAuthorization {
  readonly url: URL
  readonly verifier: string
  readonly state: string
}

/** An authorization request with PKCE (S256) and state, built by openid-client. */
export async function startAuthorization(
  config: oidc.Configuration,
  parameters: Record<string, string>,
): Promise<PendingAuthorization> {
  const verifier = oidc.randomPKCECodeVerifier()
  const state = oidc.randomState()
  const url = oidc.buildAuthorizationUrl(config, {
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...parameters,
  })
  return { url, verifier, state }
}

/** Redeems the code of a callback URL for the authorization it answers. */
export function redeemCode(config: oidc.Configuration, callback: URL, pending: PendingAuthorization) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: pending.verifier,
    expectedState: pending.state,
  })
}

/** How many objects of a model the engine holds for a client (codes, tokens, grants, sessions…). */
export async function storedCount(t: TestApp, model: string, clientId: string): Promise<number> {
  const rows = await t.kitsune.database.db
    .selectFrom('oidc_payloads')
    .select('id')
    .where('model', '=', model)
    .where('client_id', '=', clientId)
    .execute()
  return rows.length
}
