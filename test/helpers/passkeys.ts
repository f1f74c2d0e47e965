import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { type RegistrationResponseJSON, verifyRegistrationResponse } from '@simplewebauthn/server'
import { isoBase64URL } from '@simplewebauthn/server/helpers'
import { sql } from '../../src/db/kysely.js'
import type { Mailer, MailMessage } from '../../src/mail/mailer.js'
import type { TestApp } from './build-test-app.js'
import { registerUser, type TestUser } from './factories.js'

type Json = Record<string, unknown>
export interface RecordedCeremony {
  challenge: string
  // biome-ignore lint/suspicious/noExplicitAny: recorded browser JSON, passed through as is
  response: any
}

export interface WebAuthnFixtures {
  rpId: string
  origin: string
  userId: string
  userName: string
  registration: RecordedCeremony
  authentications: RecordedCeremony[]
  noUserVerification: { registration: RecordedCeremony; authentication: RecordedCeremony }
  subdomain: {
    origin: string
    rpId: string
    registration: RecordedCeremony
    authentication: RecordedCeremony
  }
}

/** Real ceremonies recorded from Chromium's virtual authenticator (see test/fixtures/webauthn/record.ts). */
export const fixtures: WebAuthnFixtures = JSON.parse(
  readFileSync(new URL('../fixtures/webauthn/ceremonies.json', import.meta.url), 'utf8'),
)

/** A deep copy of a recorded response, so a test can alter it without touching the fixture. */
export const copy = <T>(value: T): T => structuredClone(value)

/**
 * The challenges the service hands out: the ones queued (a recorded ceremony's, to replay it), then
 * random ones. Pass `challenges.next` as buildTestApp's `kitsune.passkeyChallenges`.
 */
export function challengeQueue() {
  const queue: string[] = []
  return {
    /** The next options request gets this challenge (base64url). */
    push(challenge: string) {
      queue.push(challenge)
    },
    clear() {
      queue.length = 0
    },
    next: (): Uint8Array<ArrayBuffer> => {
      const challenge = queue.shift()
      return challenge ? isoBase64URL.toBuffer(challenge) : Uint8Array.from(randomBytes(32))
    },
  }
}

/** Collects messages instead of sending them. */
export function collectingMailer(): Mailer & { sent: MailMessage[] } {
  const sent: MailMessage[] = []
  return {
    kind: 'log',
    sent,
    send: (message) => {
      sent.push(message)
    },
    deliver: async (message) => {
      sent.push(message)
    },
    defer: (task) => {
      void task()
    },
    idle: async () => {},
    close: async () => {},
  }
}

/**
 * The account the fixtures were recorded for (its id is the recorded user handle), with a real
 * argon2 password hash borrowed from a throwaway account registered through the API.
 */
export async function createFixtureUser(t: TestApp): Promise<TestUser> {
  const throwaway = await registerUser(t)
  const db = t.kitsune.database.db
  await sql`
    INSERT INTO users (id, email, password_hash, created_at, updated_at, password_changed_at)
    SELECT ${fixtures.userId}, ${fixtures.userName}, password_hash, now(), now(), now()
    FROM users WHERE id = ${throwaway.id}`.execute(db)
  await sql`INSERT INTO user_roles (user_id, role_name) VALUES (${fixtures.userId}, 'user')`.execute(db)
  return { id: fixtures.userId, email: fixtures.userName, password: throwaway.password }
}

/** Back to an account without passkeys, TOTP or two-step verification, and without sessions. */
export async function resetFixtureUser(t: TestApp): Promise<void> {
  const db = t.kitsune.database.db
  await db.deleteFrom('passkeys').where('user_id', '=', fixtures.userId).execute()
  await db.deleteFrom('sessions').where('user_id', '=', fixtures.userId).execute()
  await db.deleteFrom('mfa_totp').where('user_id', '=', fixtures.userId).execute()
  await db.updateTable('users').set({ mfa_enabled: false }).where('id', '=', fixtures.userId).execute()
}

/**
 * Stores a recorded credential without the API (for credentials the API would refuse: another RP,
 * no user verification), after checking the registration with the library itself.
 */
export async function insertRecordedPasskey(
  t: TestApp,
  userId: string,
  registration: RecordedCeremony,
  expected: { origin: string; rpId: string; name?: string },
): Promise<string> {
  const verified = await verifyRegistrationResponse({
    response: registration.response as RegistrationResponseJSON,
    expectedChallenge: registration.challenge,
    expectedOrigin: expected.origin,
    expectedRPID: expected.rpId,
    requireUserVerification: false,
  })
  if (!verified.verified || !verified.registrationInfo)
    throw new Error('the recorded registration did not verify')
  const info = verified.registrationInfo
  const id = randomUUID()
  await t.kitsune.database.db
    .insertInto('passkeys')
    .values({
      id,
      user_id: userId,
      credential_id: info.credential.id,
      public_key: isoBase64URL.fromBuffer(info.credential.publicKey),
      sign_count: String(info.credential.counter),
      transports: (registration.response.response.transports ?? []) as string[],
      aaguid: info.aaguid,
      backup_eligible: info.credentialDeviceType === 'multiDevice',
      backed_up: info.credentialBackedUp,
      user_verified: info.userVerified,
      name: expected.name ?? 'Recorded passkey',
      created_at: new Date(),
    } as never)
    .execute()
  return id
}

/** A passkey row with made-up key material, for tests that only list or remove it. */
export async function insertSyntheticPasskey(
  t: TestApp,
  userId: string,
  name = 'Synthetic key',
): Promise<string> {
  const id = randomUUID()
  await t.kitsune.database.db
    .insertInto('passkeys')
    .values({
      id,
      user_id: userId,
      credential_id: randomBytes(32).toString('base64url'),
      public_key: randomBytes(44).toString('base64url'),
      sign_count: '0',
      transports: ['usb'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      backup_eligible: false,
      backed_up: false,
      user_verified: true,
      name,
      created_at: new Date(),
    } as never)
    .execute()
  return id
}

export async function passkeyRows(t: TestApp, userId: string) {
  return t.kitsune.database.db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).execute()
}

export async function mfaEnabled(t: TestApp, userId: string): Promise<boolean> {
  const row = await t.kitsune.database.db
    .selectFrom('users')
    .select('mfa_enabled')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow()
  return row.mfa_enabled
}

export async function sessionCount(t: TestApp, userId: string): Promise<number> {
  const rows = await t.kitsune.database.db
    .selectFrom('sessions')
    .select('id')
    .where('user_id', '=', userId)
    .execute()
  return rows.length
}

/** Audit entries of one action, newest last, optionally only those whose metadata match. */
export async function audits(t: TestApp, action: string) {
  const rows = await t.kitsune.database.db
    .selectFrom('audit_logs')
    .selectAll()
    .where('action', '=', action)
    .orderBy('seq')
    .execute()
  return rows.map((row) => ({
    ...row,
    metadata: (typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata) as Json,
  }))
}

export function passwordlessOptions(t: TestApp) {
  return t.inject({ method: 'POST', url: '/api/v1/auth/passkey/options' })
}

export function verifyAssertion(t: TestApp, credential: unknown, mfaToken?: string) {
  return t.inject({
    method: 'POST',
    url: '/api/v1/auth/passkey/verify',
    payload: { credential, ...(mfaToken ? { mfa_token: mfaToken } : {}) },
  })
}
