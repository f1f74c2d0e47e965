import { createHash, randomBytes } from 'node:crypto'
import type { SeededUser } from './seed.js'
import type { OidcPlanData } from './workloads.js'

/** The bench client's redirect URI: never fetched (the code is read from the redirect). */
export const OIDC_REDIRECT_URI = 'http://127.0.0.1:9/callback'
/** What the bench's authorization requests ask for (the client registers these scopes). */
export const OIDC_SCOPE = 'openid profile email roles offline_access'
/** OIDC_RESOURCES of a run with OIDC workloads: client_credentials with it gives a JWT (O3J). */
export const OIDC_RESOURCE = 'https://api.bench.example.com'

/** The server environment OIDC workloads need: the issuer, an administrator, the resource. */
export function oidcServerEnv(baseUrl: string, runId: string): Record<string, string> {
  return {
    PUBLIC_URL: baseUrl,
    ADMIN_EMAIL: adminEmail(runId),
    ADMIN_PASSWORD: adminPassword(runId),
    OIDC_RESOURCES: OIDC_RESOURCE,
  }
}

const adminEmail = (runId: string) => `bench-admin-${runId}@bench.example.com`
const adminPassword = (runId: string) => `bench-admin-password-${runId}-${runId}`

/** The administrator ADMIN_EMAIL/ADMIN_PASSWORD make at start (OIDC and --webhooks runs). */
export const adminCredentials = (runId: string) => ({
  email: adminEmail(runId),
  password: adminPassword(runId),
})

/** What the OIDC workloads start from (besides what their plans carry). */
export interface OidcSeed extends OidcPlanData {
  readonly clientId: string
  /** Signed-in browsers (one per user, engine session and grant in place) O1 draws its codes from. */
  readonly browsers: readonly Browser[]
}

/** A code issued by an authorization request, with its PKCE verifier and when it was issued. */
export interface IssuedCode {
  readonly code: string
  readonly verifier: string
  readonly issuedAt: number
}

interface TokenResponse {
  access_token?: string
  refresh_token?: string
  id_token?: string
  token_type?: string
}

export interface BrowserPage {
  readonly status: number
  readonly url: string
  readonly html: string
  /** Set when the last redirect pointed away from Kitsune (to the client's redirect URI). */
  readonly redirectedTo?: string
}

/**
 * A cookie-keeping HTTP client that follows Kitsune's redirects like a browser with JavaScript off
 * (the same way test/helpers/oidc.ts signs in through the pages). One request at a time per browser.
 */
export class Browser {
  private readonly cookies = new Map<string, string>()
  private readonly origin: string

  constructor(private readonly baseUrl: string) {
    this.origin = new URL(baseUrl).origin
  }

  async open(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<BrowserPage> {
    let method = init.method ?? 'GET'
    let body = init.form ? new URLSearchParams(init.form).toString() : undefined
    let current = new URL(url, this.baseUrl).href
    for (let hops = 0; hops < 20; hops++) {
      const response = await this.send(current, method, body)
      const location = response.headers.get('location')
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer()
        const next = new URL(location, current).href
        if (new URL(next).origin !== this.origin)
          return { status: response.status, url: current, html: '', redirectedTo: next }
        current = next
        method = 'GET'
        body = undefined
        continue
      }
      return { status: response.status, url: current, html: await response.text() }
    }
    throw new Error(`oidc seed: too many redirects from ${url}`)
  }

  /** Submits the page's form whose action contains `actionPart`: its hidden fields (CSRF…) and `fields`. */
  async submit(page: BrowserPage, actionPart: string, fields: Record<string, string>): Promise<BrowserPage> {
    const forms = [...page.html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)]
    const form = forms.find((match) => (match[1] ?? '').includes(actionPart))
    if (!form) {
      throw new Error(
        `oidc seed: no form posting to ${actionPart} on ${page.url} (${page.status}):\n${page.html.slice(0, 1500)}`,
      )
    }
    const hidden: Record<string, string> = {}
    for (const input of (form[2] ?? '').matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1]
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? ''
      if (name) hidden[name] = unescapeHtml(value)
    }
    const action = new URL(unescapeHtml(form[1] ?? ''), page.url).href
    return this.open(action, { method: 'POST', form: { ...hidden, ...fields } })
  }

  private async send(url: string, method: string, body: string | undefined): Promise<Response> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'text/html',
        ...(cookie ? { cookie } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }
}

const unescapeHtml = (value: string) => value.replaceAll('&amp;', '&').replaceAll('&quot;', '"')

/** client_secret_basic (RFC 6749 2.3.1: both parts form-urlencoded before base64). */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replaceAll('%20', '+')
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

function authorizationUrl(clientId: string, challenge: string): string {
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: OIDC_REDIRECT_URI,
    scope: OIDC_SCOPE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(12).toString('base64url'),
  })
  return `/oidc/auth?${query}`
}

function codeOf(page: BrowserPage, what: string): string {
  const target = page.redirectedTo ? new URL(page.redirectedTo) : undefined
  const code = target?.searchParams.get('code')
  if (!target || !code) {
    const error = target?.searchParams.get('error')
    throw new Error(
      `oidc seed: ${what} did not redirect to the client with a code ` +
        `(${error ? `error ${error}: ${target?.searchParams.get('error_description')}` : `${page.status} ${page.url}`})` +
        `\n${page.html.slice(0, 1500)}`,
    )
  }
  return code
}

/** The body of the token request that redeems a code (O1's and the seed's). */
export function codeExchangeBody(code: IssuedCode): string {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code: code.code,
    redirect_uri: OIDC_REDIRECT_URI,
    code_verifier: code.verifier,
  }).toString()
}

async function tokenRequest(baseUrl: string, authorization: string, body: string): Promise<TokenResponse> {
  const response = await fetch(`${baseUrl}/oidc/token`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  })
  const text = await response.text()
  if (response.status !== 200)
    throw new Error(
      `oidc seed: POST /oidc/token (${body.split('&')[0]}) answered ${response.status}: ${text}`,
    )
  return JSON.parse(text) as TokenResponse
}

/**
 * One authorization request from a signed-in browser: the engine session and the grant are in
 * place, so Kitsune redirects straight back to the client with a code (no page, no password).
 */
export async function issueCode(browser: Browser, clientId: string): Promise<IssuedCode> {
  const { verifier, challenge } = pkce()
  const page = await browser.open(authorizationUrl(clientId, challenge))
  return {
    code: codeOf(page, 'an authorization request of a signed-in browser'),
    verifier,
    issuedAt: Date.now(),
  }
}

/**
 * Codes for O1, drawn from the signed-in browsers with `concurrency` requests in flight (each
 * browser one at a time), until `count` or `maxSeconds` is reached: codes live 60 s.
 */
export async function issueCodes(
  seed: OidcSeed,
  count: number,
  maxSeconds: number,
  concurrency = 16,
): Promise<IssuedCode[]> {
  const codes: IssuedCode[] = []
  const deadline = Date.now() + maxSeconds * 1000
  let issued = 0
  const worker = async (slot: number) => {
    for (let browser = slot; issued < count && Date.now() < deadline; browser += concurrency) {
      issued++
      const b = seed.browsers[browser % seed.browsers.length] as Browser
      codes.push(await issueCode(b, seed.clientId))
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, seed.browsers.length) }, (_, i) => worker(i)))
  return codes
}

async function post(
  baseUrl: string,
  path: string,
  body: unknown,
  expected: number,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (response.status !== expected)
    throw new Error(`oidc seed: POST ${path} answered ${response.status} (expected ${expected}): ${text}`)
  return JSON.parse(text)
}

/** Signs a user in through the pages (GET /oidc/auth, the sign-in form) and redeems the code. */
async function signIn(
  baseUrl: string,
  clientId: string,
  authorization: string,
  user: SeededUser,
): Promise<{ browser: Browser; tokens: TokenResponse }> {
  const browser = new Browser(baseUrl)
  const { verifier, challenge } = pkce()
  let page = await browser.open(authorizationUrl(clientId, challenge))
  if (!page.redirectedTo)
    page = await browser.submit(page, '/ui/sign-in', { email: user.email, password: user.password })
  const code = codeOf(page, `signing in ${user.email} through /ui/sign-in`)
  const tokens = await tokenRequest(
    baseUrl,
    authorization,
    codeExchangeBody({ code, verifier, issuedAt: Date.now() }),
  )
  if (!tokens.access_token || !tokens.refresh_token || !tokens.id_token)
    throw new Error(
      `oidc seed: the code exchange gave no access, refresh or ID token: ${JSON.stringify(tokens)}`,
    )
  return { browser, tokens }
}

export interface OidcSeedOptions {
  readonly baseUrl: string
  readonly runId: string
  readonly users: readonly SeededUser[]
  /** Users (the first N) whose access tokens O4 and O5 use, and whose browsers O1 draws codes from. */
  readonly signedIn: number
  /** Separate sign-ins (each its own engine session and grant) whose refresh chains O2 rotates. */
  readonly refreshChains: number
  /** More such chains for the warm-up alone (0: none). */
  readonly warmupRefreshChains: number
  readonly concurrency?: number
}

/**
 * Registers the bench's confidential client through the admin API (the administrator is made at
 * start by ADMIN_EMAIL/ADMIN_PASSWORD) and signs users in through the pages: each sign-in is a
 * browser with its cookies, one argon2id verify and one code exchange.
 */
export async function seedOidc(options: OidcSeedOptions): Promise<OidcSeed> {
  const { baseUrl, runId, users } = options
  const login = (await post(
    baseUrl,
    '/api/v1/auth/login',
    { email: adminEmail(runId), password: adminPassword(runId) },
    200,
  )) as { access_token: string }
  const client = (await post(
    baseUrl,
    '/api/v1/admin/clients',
    {
      client_name: 'Kitsune bench',
      redirect_uris: [OIDC_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access roles',
      first_party: true,
    },
    201,
    { authorization: `Bearer ${login.access_token}` },
  )) as { client_id: string; client_secret?: string }
  if (!client.client_secret) throw new Error('oidc seed: the client was created without a secret')
  const authorization = basicAuthorization(client.client_id, client.client_secret)

  // Jobs: the signed-in users first, then the O2 chains and the warm-up's (users 0, 1, … again).
  const kinds: Array<'main' | 'chain' | 'warm'> = [
    ...Array<'main'>(options.signedIn).fill('main'),
    ...Array<'chain'>(options.refreshChains).fill('chain'),
    ...Array<'warm'>(options.warmupRefreshChains).fill('warm'),
  ]
  const results: Array<{ browser: Browser; tokens: TokenResponse }> = new Array(kinds.length)
  let next = 0
  const worker = async () => {
    for (let job = next++; job < kinds.length; job = next++) {
      const chain = job - options.signedIn
      const offset = chain < 0 ? job : chain < options.refreshChains ? chain : chain - options.refreshChains
      const user = users[offset % users.length]
      if (!user) throw new Error('oidc seed: no seeded users')
      results[job] = await signIn(baseUrl, client.client_id, authorization, user)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker))
  const of = (kind: 'main' | 'chain' | 'warm') => results.filter((_, i) => kinds[i] === kind)
  const main = of('main')
  return {
    clientId: client.client_id,
    authorization,
    resource: OIDC_RESOURCE,
    browsers: main.map((r) => r.browser),
    accessTokens: main.map((r) => r.tokens.access_token as string),
    refreshTokens: of('chain').map((r) => r.tokens.refresh_token as string),
    warmupRefreshTokens: of('warm').map((r) => r.tokens.refresh_token as string),
  }
}

/**
 * Fails fast (before thousands of errors are measured) when a workload's request does not work:
 * userinfo, introspection, client_credentials with and without the resource (a JWT with it).
 */
export async function checkOidc(baseUrl: string, seed: OidcSeed): Promise<void> {
  const token = seed.accessTokens[0] as string
  const userinfo = await fetch(`${baseUrl}/oidc/me`, { headers: { authorization: `Bearer ${token}` } })
  if (userinfo.status !== 200)
    throw new Error(`oidc seed: GET /oidc/me answered ${userinfo.status}: ${await userinfo.text()}`)
  await userinfo.arrayBuffer()
  const introspection = await fetch(`${baseUrl}/oidc/token/introspection`, {
    method: 'POST',
    headers: { authorization: seed.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  })
  const introspected = (await introspection.json()) as { active?: boolean }
  if (introspection.status !== 200 || introspected.active !== true)
    throw new Error(
      `oidc seed: introspection answered ${introspection.status}: ${JSON.stringify(introspected)}`,
    )
  const opaque = await tokenRequest(baseUrl, seed.authorization, 'grant_type=client_credentials')
  if (!opaque.access_token || opaque.access_token.split('.').length === 3)
    throw new Error(`oidc seed: client_credentials gave no opaque token: ${JSON.stringify(opaque)}`)
  const jwt = await tokenRequest(
    baseUrl,
    seed.authorization,
    new URLSearchParams({ grant_type: 'client_credentials', resource: seed.resource }).toString(),
  )
  if (jwt.access_token?.split('.').length !== 3)
    throw new Error(`oidc seed: client_credentials with a resource gave no JWT: ${JSON.stringify(jwt)}`)
}
