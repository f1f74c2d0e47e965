import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oidc from 'openid-client'
import { discover } from './oidc.js'

/**
 * A small web application that signs people in with Kitsune through openid-client, as a real
 * relying party would: discovery, PKCE S256 and state kept in its own cookie, the code exchanged
 * at the token endpoint, the person's e-mail read from the userinfo endpoint.
 *
 *   GET /?client=NAME[&acr_values=…][&ui_locales=…]  redirects to Kitsune's authorization endpoint
 *   GET /callback                                    exchanges the code, shows "Signed in as <email>"
 */
export interface RelyingParty {
  /** http://127.0.0.1:<port>: another origin (and site) than Kitsune's http://localhost:<port>. */
  readonly origin: string
  /** The one redirect URI every client of this application registers. */
  readonly redirectUri: string
  /** Makes a registered client available as `?client=name`. */
  addClient(name: string, clientId: string, clientSecret?: string): Promise<oidc.Configuration>
  /** The URL that starts a sign-in with that client. */
  startUrl(name: string, params?: Record<string, string>): string
  /** Every callback that did not end in a signed-in page, with why. */
  readonly failures: string[]
  close(): Promise<void>
}

interface PendingFlow {
  readonly client: string
  readonly verifier: string
  readonly state: string
}

const COOKIE = 'rp_flow'
const SCOPE = 'openid email profile'

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main>${body}</main></body></html>`

export async function startRelyingParty(issuer: string): Promise<RelyingParty> {
  const configs = new Map<string, oidc.Configuration>()
  const flows = new Map<string, PendingFlow>()
  const failures: string[] = []
  let origin = ''

  const cookieOf = (request: IncomingMessage) =>
    /(?:^|;\s*)rp_flow=([A-Za-z0-9_-]+)/.exec(request.headers.cookie ?? '')?.[1]

  const send = (response: ServerResponse, status: number, html: string, headers = {}) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers })
    response.end(html)
  }

  const start = async (url: URL, response: ServerResponse) => {
    const client = url.searchParams.get('client') ?? ''
    const config = configs.get(client)
    if (!config) return send(response, 404, page('Unknown client', '<h1>Unknown client</h1>'))
    const verifier = oidc.randomPKCECodeVerifier()
    const state = oidc.randomState()
    const extra = Object.fromEntries([...url.searchParams].filter(([name]) => name !== 'client'))
    const authorization = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${origin}/callback`,
      scope: SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    })
    const id = randomBytes(16).toString('base64url')
    flows.set(id, { client, verifier, state })
    response.writeHead(302, {
      location: authorization.href,
      'set-cookie': `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`,
    })
    response.end()
  }

  const callback = async (url: URL, request: IncomingMessage, response: ServerResponse) => {
    const id = cookieOf(request)
    const flow = id ? flows.get(id) : undefined
    const config = flow ? configs.get(flow.client) : undefined
    if (!flow || !config || !id) {
      failures.push(`callback without a pending sign-in: ${url.href}`)
      return send(response, 400, page('Sign-in failed', '<h1>Sign-in failed</h1><p>No sign-in started.</p>'))
    }
    flows.delete(id)
    try {
      const tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      })
      const claims = tokens.claims()
      if (!claims) throw new Error('no ID token')
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
      send(
        response,
        200,
        page(
          'Signed in',
          `<h1 id="signed-in">Signed in as ${escapeHtml(String(info.email))}</h1>` +
            `<p id="client">${escapeHtml(flow.client)}</p>` +
            `<p id="acr">${escapeHtml(String(claims.acr ?? ''))}</p>` +
            `<p id="amr">${escapeHtml(((claims.amr as string[] | undefined) ?? []).join(' '))}</p>`,
        ),
        { 'set-cookie': `${COOKIE}=; Path=/; Max-Age=0` },
      )
    } catch (error) {
      const e = error as { error?: string; error_description?: string; message?: string }
      const why = [e.error, e.error_description, e.message].filter(Boolean).join(': ')
      failures.push(`${url.href}: ${why}`)
      send(
        response,
        400,
        page('Sign-in failed', `<h1>Sign-in failed</h1><pre id="error">${escapeHtml(why)}</pre>`),
      )
    }
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin)
    const handle =
      request.method === 'GET' && url.pathname === '/'
        ? start(url, response)
        : request.method === 'GET' && url.pathname === '/callback'
          ? callback(url, request, response)
          : Promise.resolve(send(response, 404, page('Not found', '<h1>Not found</h1>')))
    handle.catch((error: Error) => {
      failures.push(`${url.href}: ${error.message}`)
      if (!response.headersSent) send(response, 500, page('Error', '<h1>Error</h1>'))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    origin,
    redirectUri: `${origin}/callback`,
    failures,
    async addClient(name, clientId, clientSecret) {
      const config = await discover(issuer, clientId, clientSecret)
      configs.set(name, config)
      return config
    },
    startUrl(name, params = {}) {
      return `${origin}/?${new URLSearchParams({ client: name, ...params })}`
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
