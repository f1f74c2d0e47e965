import { randomBytes } from 'node:crypto'
import type { TestApp } from './build-test-app.js'

export interface TestUser {
  id: string
  email: string
  password: string
}

export interface TestTokens {
  access_token: string
  refresh_token: string
  expires_in: number
  refresh_expires_in: number
  token_type: string
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`
}

export async function registerUser(
  t: TestApp,
  overrides: Partial<{ email: string; password: string; full_name: string }> = {},
) {
  const email = overrides.email ?? uniqueEmail()
  const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email, password, ...(overrides.full_name ? { full_name: overrides.full_name } : {}) },
  })
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`)
  return {
    id: response.json().id as string,
    email: response.json().email as string,
    password,
  } satisfies TestUser
}

export async function login(
  t: TestApp,
  user: Pick<TestUser, 'email' | 'password'>,
  headers: Record<string, string> = {},
) {
  const response = await t.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email: user.email, password: user.password },
    headers,
  })
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`)
  return response.json() as TestTokens
}

export async function registerAndLogin(t: TestApp) {
  const user = await registerUser(t)
  return { user, tokens: await login(t, user) }
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}
