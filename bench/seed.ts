export interface SeededUser {
  readonly email: string
  readonly password: string
  /** Access token of the user's first session (W1). */
  readonly accessToken: string
  /** Refresh token of a second, separate session (W5 rotates it), when one was asked for. */
  readonly refreshToken: string | undefined
  /** Refresh token of a session only the warm-up rotates (so W5's chains start unused). */
  readonly warmupRefreshToken: string | undefined
  /** Tokens of a third session, W6's (its refresh chain and access token), when one was asked for. */
  readonly mixed: { readonly accessToken: string; readonly refreshToken: string } | undefined
}

interface TokenPair {
  access_token: string
  refresh_token: string
}

async function post(baseUrl: string, path: string, body: unknown, expected: number): Promise<unknown> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (response.status !== expected) {
    throw new Error(`seed: POST ${path} answered ${response.status} (expected ${expected}): ${text}`)
  }
  return JSON.parse(text)
}

export interface SeedOptions {
  readonly baseUrl: string
  readonly runId: string
  readonly users: number
  /** How many of the users also get a second session whose refresh token W5 rotates. */
  readonly refreshSessions: number
  /** How many of the users also get a session of their own for W6. */
  readonly mixedSessions: number
  /** How many of the users also get a session whose refresh chain the warm-up rotates. */
  readonly warmupRefreshSessions?: number
  readonly concurrency?: number
}

/** Registers and logs in distinct users over HTTP, a few at a time. */
export async function seedUsers(options: SeedOptions): Promise<SeededUser[]> {
  const password = `bench-password-${options.runId}`
  const users: SeededUser[] = new Array(options.users)
  let next = 0
  const worker = async () => {
    for (let index = next++; index < options.users; index = next++) {
      const email = `seed-${options.runId}-${index}@bench.example.com`
      await post(
        options.baseUrl,
        '/api/v1/auth/register',
        { email, password, full_name: `Bench ${index}` },
        201,
      )
      const first = (await post(options.baseUrl, '/api/v1/auth/login', { email, password }, 200)) as TokenPair
      const second =
        index < options.refreshSessions
          ? ((await post(options.baseUrl, '/api/v1/auth/login', { email, password }, 200)) as TokenPair)
          : undefined
      const third =
        index < options.mixedSessions
          ? ((await post(options.baseUrl, '/api/v1/auth/login', { email, password }, 200)) as TokenPair)
          : undefined
      const warm =
        index < (options.warmupRefreshSessions ?? 0)
          ? ((await post(options.baseUrl, '/api/v1/auth/login', { email, password }, 200)) as TokenPair)
          : undefined
      users[index] = {
        email,
        password,
        accessToken: first.access_token,
        refreshToken: second?.refresh_token,
        warmupRefreshToken: warm?.refresh_token,
        mixed: third && { accessToken: third.access_token, refreshToken: third.refresh_token },
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker))
  return users
}

/** Fails fast when a seeded access token does not work (before measuring thousands of 401s). */
export async function checkAccessToken(baseUrl: string, user: SeededUser): Promise<void> {
  const response = await fetch(`${baseUrl}/api/v1/users/me`, {
    headers: { authorization: `Bearer ${user.accessToken}` },
  })
  if (response.status !== 200) {
    throw new Error(`seed: GET /api/v1/users/me answered ${response.status}: ${await response.text()}`)
  }
}
