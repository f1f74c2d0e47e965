import type { LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'
import { expect } from 'vitest'
import type { TestApp } from './build-test-app.js'

export type RowCounts = Record<'users' | 'sessions' | 'audit' | 'roles' | 'tokens', string>

/** Rows in every table a request could write to, read in one statement. */
export async function rowCounts(t: TestApp): Promise<RowCounts | undefined> {
  const result = await sql<RowCounts>`
    SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM sessions) AS sessions,
      (SELECT count(*) FROM audit_logs) AS audit, (SELECT count(*) FROM roles) AS roles,
      (SELECT count(*) FROM email_tokens) AS tokens`.execute(t.kitsune.database.db)
  return result.rows[0]
}

/**
 * The property every hostile request must keep: no 5xx; an error is a proper problem+json (or, on
 * the OAuth2 token endpoint, an RFC 6749 error); and a 422 has written nothing at all.
 */
export async function expectWellHandled(
  t: TestApp,
  response: LightMyRequestResponse,
  before: RowCounts | undefined,
  oauth = false,
): Promise<void> {
  expect(response.statusCode).toBeLessThan(500)
  if (response.statusCode >= 400) {
    const body = response.json()
    if (oauth && !String(response.headers['content-type']).includes('problem+json')) {
      expect(response.headers['content-type']).toContain('application/json')
      expect(typeof body.error).toBe('string')
    } else {
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(body.status).toBe(response.statusCode)
    }
  }
  if (response.statusCode === 422) expect(await rowCounts(t)).toEqual(before)
}
