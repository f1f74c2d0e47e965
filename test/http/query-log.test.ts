import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

describe.each(testTargets())('DB_LOG_QUERIES on $name', (target) => {
  let t: TestApp
  beforeAll(async () => {
    t = await buildTestApp({ target, env: { DB_LOG_QUERIES: 'true', LOG_LEVEL: 'info' } })
  })
  afterAll(async () => t?.close())

  it('logs each statement, never its parameters', async () => {
    const email = uniqueEmail('query-log')
    const user = await registerUser(t, { email })
    const queries = t.logs.filter((line) => line.msg === 'query')
    expect(queries.some((line) => String(line.sql).startsWith('insert into "users"'))).toBe(true)
    const text = JSON.stringify(queries)
    expect(text).not.toContain(email)
    expect(text).not.toContain(user.password)
    expect(text).not.toContain('$argon2id$')
  })
})
