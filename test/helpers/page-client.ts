import type { LightMyRequestResponse } from 'fastify'
import type { TestApp } from './build-test-app.js'

/**
 * A browser stand-in for the pages through app.inject: keeps the cookies the responses set (name
 * and value; these tests do not need expiry or paths) and posts forms as a browser does.
 */
export interface PageClient {
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>
  /** POSTs `fields` as application/x-www-form-urlencoded. */
  post(
    url: string,
    fields: Record<string, string>,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>
  cookie(name: string): string | undefined
  setCookie(name: string, value: string): void
  clearCookies(): void
}

export function pageClient(t: TestApp): PageClient {
  const jar = new Map<string, string>()
  const send = async (options: Parameters<TestApp['inject']>[0] & { headers?: Record<string, string> }) => {
    const cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await t.inject({
      ...options,
      headers: { ...(cookie ? { cookie } : {}), ...options.headers },
    })
    const setCookies = response.headers['set-cookie']
    for (const line of Array.isArray(setCookies) ? setCookies : setCookies ? [setCookies] : []) {
      const [pair = ''] = line.split(';')
      const eq = pair.indexOf('=')
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim())
    }
    return response
  }
  return {
    get: (url, headers = {}) => send({ method: 'GET', url, headers }),
    post: (url, fields, headers = {}) =>
      send({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: new URLSearchParams(fields).toString(),
      }),
    cookie: (name) => jar.get(name),
    setCookie: (name, value) => jar.set(name, value),
    clearCookies: () => jar.clear(),
  }
}

/** The value of the hidden input `name` in a page's HTML. */
export function hiddenField(html: string, name: string): string | undefined {
  const input = html.match(new RegExp(`<input[^>]*type="hidden"[^>]*name="${name}"[^>]*>`))?.[0]
  return input?.match(/value="([^"]*)"/)?.[1]
}
