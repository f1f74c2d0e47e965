import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromKeycloak } from '../../src/auth/foreign-hashes.js'
import { NO_PASSWORD } from '../../src/auth/password-hasher.js'
import { uuidv7 } from '../../src/lib/uuid.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const PASSWORD = 'imported from keycloak'

/** A Keycloak pbkdf2-sha512 credential, as its realm export holds it (210000 is Keycloak's default). */
function keycloakSha512(password: string) {
  const salt = randomBytes(16)
  const value = pbkdf2Sync(password, salt, 210_000, 64, 'sha512')
  return fromKeycloak({
    algorithm: 'pbkdf2-sha512',
    iterations: 210_000,
    value: value.toString('base64'),
    salt: salt.toString('base64'),
  })
}

describe.each(testTargets())('sign-in with an imported foreign hash on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target })
  })
  afterAll(async () => t?.close())

  const db = () => t.kitsune.database.db

  async function insertUser(passwordHash: string) {
    const id = uuidv7()
    const email = uniqueEmail('imported')
    const now = new Date()
    await db()
      .insertInto('users')
      .values({
        id,
        email,
        full_name: null,
        password_hash: passwordHash,
        email_verified: true,
        created_at: now,
        updated_at: now,
        password_changed_at: now,
      })
      .execute()
    await db().insertInto('user_roles').values({ user_id: id, role_name: 'user', created_at: now }).execute()
    return { id, email }
  }

  const storedHash = async (id: string) =>
    (await db().selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirstOrThrow())
      .password_hash

  const attempt = (email: string, password: string) =>
    t.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } })

  it('logs a Keycloak pbkdf2-sha512 user in and re-hashes the password to argon2id', async () => {
    const stored = keycloakSha512(PASSWORD)
    expect(stored).toMatch(/^\$pbkdf2-sha512\$i=210000\$/)
    const user = await insertUser(stored)

    const wrong = await attempt(user.email, `${PASSWORD}?`)
    expect(wrong.statusCode).toBe(401)
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS')
    expect(await storedHash(user.id)).toBe(stored)

    const tokens = await login(t, { email: user.email, password: PASSWORD })
    expect(tokens.access_token).toBeTruthy()
    expect(await storedHash(user.id)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)

    // The upgraded hash keeps the same password, and still refuses a wrong one.
    await login(t, { email: user.email, password: PASSWORD })
    expect((await attempt(user.email, 'not the password')).statusCode).toBe(401)
  })

  it('refuses every password for an account imported without one, and its password change', async () => {
    const user = await insertUser(keycloakSha512(PASSWORD))
    const tokens = await login(t, { email: user.email, password: PASSWORD })
    await db().updateTable('users').set({ password_hash: NO_PASSWORD }).where('id', '=', user.id).execute()

    for (const password of ['', '!', PASSWORD]) {
      const response = await attempt(user.email, password)
      expect([401, 422]).toContain(response.statusCode)
    }
    const change = await t.inject({
      method: 'POST',
      url: '/api/v1/users/me/password',
      headers: bearer(tokens.access_token),
      payload: { current_password: PASSWORD, new_password: 'a brand new password' },
    })
    expect(change.statusCode).toBe(401)
    expect(change.json().code).toBe('INVALID_CREDENTIALS')
    expect(await storedHash(user.id)).toBe(NO_PASSWORD)
  })
})
