import { randomBytes } from 'node:crypto'
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import { decodeClientDataJSON, isoBase64URL, isoUint8Array } from '@simplewebauthn/server/helpers'
import { hashOpaqueToken } from '../auth/opaque-tokens.js'
import type { PasswordHasher } from '../auth/password-hasher.js'
import type { WebAuthnConfig } from '../config/config.schema.js'
import type { TransactionContext, UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import { uuidv7 } from '../lib/uuid.js'
import type { AuthMetrics } from '../observability/metrics.js'
import type { PasskeyRecord } from '../repositories/passkey.repository.js'
import type { Repositories } from '../repositories/repositories.js'
import type { UserRecord } from '../repositories/user.repository.js'
import type { Store } from '../stores/store.js'
import type { AuditService } from './audit.service.js'
import { normalizePassword } from './auth.service.js'
import type { AuthStateService } from './auth-state.service.js'
import type { MfaService } from './mfa.service.js'
import type { Principal, RequestContext } from './request-context.js'

/**
 * How long a ceremony may take, from the options to the answer: WebAuthn's recommended range for
 * a ceremony with user verification (W3C WebAuthn 3, section 15.1), and the challenge's lifetime.
 */
export const PASSKEY_CEREMONY_SECONDS = 300
/** COSE algorithms accepted: Ed25519, ES256 (what nearly every authenticator uses), RS256 (Windows Hello). */
const ALGORITHMS = [-8, -7, -257]
const NAME_MAX = 64
const TRANSPORTS = new Set(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'])

/** What one passkey looks like to its owner and to administrators: never its key material. */
export interface PasskeyView {
  id: string
  name: string
  created_at: Date
  last_used_at: Date | null
  transports: string[]
  aaguid: string
  backup_eligible: boolean
  backed_up: boolean
}

/** A checked assertion: whose it is and the RFC 8176 methods it proves. */
export interface PasskeyAssertion {
  userId: string
  passkeyId: string
  /** hwk (a key held by an authenticator), user when the authenticator verified the person. */
  amr: string[]
}

type Ceremony =
  | { purpose: 'register'; userId: string; sessionId: string; expiresAt: number }
  | { purpose: 'passwordless'; expiresAt: number; binding?: string }
  | { purpose: 'second_factor'; userId: string; mfaHash: string; expiresAt: number }

export function viewOf(row: PasskeyRecord): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    created_at: row.created_at,
    last_used_at: row.last_used_at,
    transports: row.transports,
    aaguid: row.aaguid,
    backup_eligible: row.backup_eligible,
    backed_up: row.backed_up,
  }
}

/** A passkey's name: trimmed, control characters dropped, 1 to 64 characters. */
export function passkeyName(raw: string | undefined, field = '/name'): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const name = (raw ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim()
  if (!name) throw validationError(field, 'must not be empty')
  if ([...name].length > NAME_MAX) throw validationError(field, `must be at most ${NAME_MAX} characters`)
  return name
}

/** Maps the WebAuthn library's refusals to a stable reason (for the audit) and words for a person. */
function refusalOf(error: unknown): { reason: string; detail: string } {
  const message = error instanceof Error ? error.message : String(error)
  if (/origin/i.test(message))
    return { reason: 'wrong_origin', detail: 'the passkey answered for a page Kitsune does not serve' }
  if (/RP ID/i.test(message))
    return { reason: 'wrong_rp_id', detail: 'the passkey belongs to another site (relying party ID)' }
  if (/user verification|could not be verified/i.test(message))
    return {
      reason: 'user_not_verified',
      detail: 'the authenticator did not verify you (PIN, fingerprint or face): passkeys need it',
    }
  if (/user not present/i.test(message))
    return { reason: 'user_not_present', detail: 'the authenticator did not confirm your presence' }
  if (/challenge/i.test(message))
    return { reason: 'wrong_challenge', detail: 'the answer does not match this sign-in request' }
  if (/signature/i.test(message)) return { reason: 'bad_signature', detail: 'the signature did not verify' }
  return { reason: 'malformed', detail: 'the authenticator response could not be read' }
}

/**
 * Passkeys (WebAuthn) through @simplewebauthn/server: registration and authentication ceremonies,
 * and the credentials they create. A challenge lives in the store for five minutes, is tied to
 * what asked for it (the signed-in session for a registration, the step-up token for a second
 * factor, the browser and sign-in for a page's passwordless sign-in: `binding`) and is taken from
 * the store before it is checked: it answers once, right or wrong.
 */
export function createPasskeyService(deps: {
  uow: UnitOfWork<Repositories>
  store: Store
  hasher: PasswordHasher
  audit: AuditService
  authState: AuthStateService
  mfa: Pick<MfaService, 'challengeOwner' | 'consumeChallenge' | 'notify'>
  clock: Clock
  metrics: AuthMetrics
  config: WebAuthnConfig
  rpName: string
  requireEmailVerification: boolean
  /** A new challenge (32 random bytes); tests replay recorded ceremonies by choosing it. */
  newChallenge?: () => Uint8Array<ArrayBuffer>
}) {
  const { uow, store, audit, authState, mfa, clock, config } = deps
  const newChallenge = deps.newChallenge ?? (() => Uint8Array.from(randomBytes(32)))
  const key = (challenge: string) => `pk:c:${challenge}`
  const expiry = () => clock.now().getTime() + PASSKEY_CEREMONY_SECONDS * 1000

  const remember = async (challenge: string, ceremony: Ceremony) => {
    await store.set(key(challenge), JSON.stringify(ceremony), PASSKEY_CEREMONY_SECONDS)
  }

  /** Takes the ceremony a response answers (once: a replay finds nothing), or throws. */
  const takeCeremony = async (
    clientDataJSON: unknown,
  ): Promise<{ challenge: string; ceremony: Ceremony }> => {
    let challenge: string
    try {
      challenge = decodeClientDataJSON(String(clientDataJSON)).challenge
    } catch {
      throw new AppError('INVALID_PASSKEY', { detail: 'the authenticator response could not be read' })
    }
    const stored =
      typeof challenge === 'string' && challenge.length <= 128 ? await store.take(key(challenge)) : undefined
    const ceremony = stored ? (JSON.parse(stored) as Ceremony) : undefined
    if (!ceremony || ceremony.expiresAt <= clock.now().getTime())
      throw new AppError('INVALID_PASSKEY', {
        detail: 'this passkey request expired or was already answered: start again',
      })
    return { challenge, ceremony }
  }

  const transportsOf = (raw: readonly string[] | undefined): string[] =>
    (raw ?? []).filter((transport) => TRANSPORTS.has(transport)).slice(0, 8)

  const failed = async (
    ctx: RequestContext,
    userId: string | null,
    reason: string,
    metadata: Record<string, unknown> = {},
  ) => {
    deps.metrics.login('bad_credentials')
    await audit.recordAlone(ctx, {
      action: 'user.login_failed',
      actorId: userId,
      targetType: 'user',
      targetId: userId ?? undefined,
      metadata: { method: 'passkey', reason, ...metadata },
    })
  }

  /** The account's factors, for the rule that an account requiring a second factor keeps one. */
  const isLastFactor = async (repos: Repositories, user: UserRecord) => {
    if (!user.mfa_enabled) return false
    const [totp, count] = await Promise.all([
      repos.mfa.findTotp(user.id),
      repos.passkeys.countByUser(user.id),
    ])
    return !totp?.confirmed_at && count <= 1
  }

  return {
    /** Is this the user's password? (Adding or removing a passkey through the API asks for it.) */
    async confirmPassword(userId: string, password: string): Promise<void> {
      const credentials = await uow.read.users.findCredentialsById(userId)
      if (!credentials || !(await deps.hasher.verify(credentials.password_hash, normalizePassword(password))))
        throw new AppError('INVALID_CREDENTIALS', { detail: 'the password is not correct' })
    },

    async list(userId: string): Promise<PasskeyView[]> {
      await uow.read.users.getById(userId)
      return (await uow.read.passkeys.listByUser(userId)).map(viewOf)
    },

    /** Options for navigator.credentials.create(), bound to the signed-in session asking. */
    async registrationOptions(principal: Principal): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const user = await uow.read.users.getById(principal.userId)
      const existing = await uow.read.passkeys.listByUser(user.id)
      const options = await generateRegistrationOptions({
        rpName: deps.rpName,
        rpID: config.rpId,
        // The user handle is the account id (random, no personal data), which a passwordless
        // sign-in's answer carries back.
        userID: isoUint8Array.fromUTF8String(user.id),
        userName: user.email,
        userDisplayName: user.full_name ?? user.email,
        challenge: newChallenge(),
        timeout: PASSKEY_CEREMONY_SECONDS * 1000,
        // An allow-list of models needs the authenticator to say which it is.
        attestationType: config.allowedAaguids.length > 0 ? 'direct' : 'none',
        excludeCredentials: existing.map((row) => ({
          id: row.credential_id,
          transports: row.transports as AuthenticatorTransport[],
        })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        supportedAlgorithmIDs: ALGORITHMS,
      })
      await remember(options.challenge, {
        purpose: 'register',
        userId: user.id,
        sessionId: principal.sessionId,
        expiresAt: expiry(),
      })
      return options
    },

    /**
     * Verifies a registration and stores the passkey. The first second factor of an account turns
     * two-step verification on: from then a password alone no longer signs in.
     */
    async register(
      principal: Principal,
      input: { credential: RegistrationResponseJSON; name?: string },
      ctx: RequestContext,
    ): Promise<PasskeyView> {
      const name = input.name === undefined ? undefined : passkeyName(input.name)
      const { challenge, ceremony } = await takeCeremony(input.credential?.response?.clientDataJSON)
      if (
        ceremony.purpose !== 'register' ||
        ceremony.userId !== principal.userId ||
        ceremony.sessionId !== principal.sessionId
      )
        throw new AppError('INVALID_PASSKEY', { detail: 'this passkey request belongs to another sign-in' })
      let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>
      try {
        verified = await verifyRegistrationResponse({
          response: input.credential,
          expectedChallenge: challenge,
          expectedOrigin: [...config.origins],
          expectedRPID: config.rpId,
          requireUserVerification: true,
          supportedAlgorithmIDs: ALGORITHMS,
        })
      } catch (error) {
        throw new AppError('INVALID_PASSKEY', { detail: refusalOf(error).detail })
      }
      if (!verified.verified || !verified.registrationInfo)
        throw new AppError('INVALID_PASSKEY', { detail: 'the registration did not verify' })
      const info = verified.registrationInfo
      const aaguid = info.aaguid.toLowerCase()
      if (config.allowedAaguids.length > 0 && !config.allowedAaguids.includes(aaguid))
        throw new AppError('AUTHENTICATOR_NOT_ALLOWED', {
          detail: `authenticators of this model (AAGUID ${aaguid}) are not allowed here (WEBAUTHN_ALLOWED_AAGUIDS)`,
        })
      const now = clock.now()
      return uow.run(async (repos, tx) => {
        await repos.users.lock(principal.userId)
        const user = await repos.users.getById(principal.userId)
        const count = await repos.passkeys.countByUser(user.id)
        const row: PasskeyRecord = {
          id: uuidv7(),
          user_id: user.id,
          credential_id: info.credential.id,
          public_key: isoBase64URL.fromBuffer(info.credential.publicKey),
          sign_count: String(info.credential.counter),
          transports: transportsOf(input.credential.response.transports),
          aaguid,
          backup_eligible: info.credentialDeviceType === 'multiDevice',
          backed_up: info.credentialBackedUp,
          user_verified: info.userVerified,
          name: name ?? `Passkey ${count + 1}`,
          created_at: now,
          last_used_at: null,
        }
        if (!(await repos.passkeys.insert(row)))
          throw new AppError('PASSKEY_EXISTS', { detail: 'this authenticator already holds a passkey here' })
        await audit.record(repos, tx, ctx, {
          action: 'passkey.registered',
          actorId: user.id,
          targetType: 'passkey',
          targetId: row.id,
          metadata: {
            user_id: user.id,
            name: row.name,
            aaguid,
            backup_eligible: row.backup_eligible,
            attestation: info.fmt,
          },
        })
        await mfa.notify(repos, tx, user, 'passkey_added', { name: row.name })
        if (!user.mfa_enabled) {
          await repos.mfa.setEnabled(user.id, true, now)
          await authState.invalidate(tx, { userIds: [user.id] })
          await audit.record(repos, tx, ctx, {
            action: 'mfa.enabled',
            actorId: user.id,
            targetType: 'user',
            targetId: user.id,
            metadata: { method: 'passkey' },
          })
        }
        return viewOf(row)
      })
    },

    /**
     * Options for navigator.credentials.get(). Without a step-up token: a passwordless sign-in
     * with any passkey of this site (discoverable credentials; the person must be verified). With
     * one: the second factor of the account that token belongs to, naming its passkeys.
     */
    async authenticationOptions(
      input: { mfaToken?: string; binding?: string } = {},
    ): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const challenge = newChallenge()
      if (input.mfaToken === undefined) {
        const options = await generateAuthenticationOptions({
          rpID: config.rpId,
          challenge,
          timeout: PASSKEY_CEREMONY_SECONDS * 1000,
          allowCredentials: [],
          userVerification: 'required',
        })
        await remember(options.challenge, {
          purpose: 'passwordless',
          expiresAt: expiry(),
          ...(input.binding === undefined ? {} : { binding: hashOpaqueToken(input.binding) }),
        })
        return options
      }
      const userId = await mfa.challengeOwner(input.mfaToken)
      if (!userId)
        throw new AppError('INVALID_MFA_CODE', {
          detail: 'the MFA token is invalid or expired; log in again',
        })
      const passkeys = await uow.read.passkeys.listByUser(userId)
      if (passkeys.length === 0)
        throw new AppError('INVALID_PASSKEY', { detail: 'this account has no passkey; use another factor' })
      const options = await generateAuthenticationOptions({
        rpID: config.rpId,
        challenge,
        timeout: PASSKEY_CEREMONY_SECONDS * 1000,
        allowCredentials: passkeys.map((row) => ({
          id: row.credential_id,
          transports: row.transports as AuthenticatorTransport[],
        })),
        // After a password, holding the key is the second factor; verification is welcome, not needed.
        userVerification: 'preferred',
      })
      await remember(options.challenge, {
        purpose: 'second_factor',
        userId,
        mfaHash: hashOpaqueToken(input.mfaToken),
        expiresAt: expiry(),
      })
      return options
    },

    /**
     * Checks an assertion against the ceremony it answers. Every refusal is audited
     * (user.login_failed, or passkey.counter_regressed) and thrown as INVALID_PASSKEY.
     */
    async authenticate(
      input: { credential: AuthenticationResponseJSON; mfaToken?: string; binding?: string },
      ctx: RequestContext,
    ): Promise<PasskeyAssertion> {
      const { credential } = input
      let taken: Awaited<ReturnType<typeof takeCeremony>>
      try {
        taken = await takeCeremony(credential?.response?.clientDataJSON)
      } catch (error) {
        if (error instanceof AppError && error.code === 'INVALID_PASSKEY')
          await failed(ctx, null, 'challenge_unknown_or_expired')
        throw error
      }
      const { challenge, ceremony } = taken
      const secondFactor = input.mfaToken !== undefined
      if (
        ceremony.purpose === 'register' ||
        (ceremony.purpose === 'second_factor') !== secondFactor ||
        (ceremony.purpose === 'second_factor' &&
          ceremony.mfaHash !== hashOpaqueToken(input.mfaToken ?? '')) ||
        (ceremony.purpose === 'passwordless' &&
          (ceremony.binding ?? null) !==
            (input.binding === undefined ? null : hashOpaqueToken(input.binding)))
      ) {
        await failed(ctx, null, 'challenge_mismatch')
        throw new AppError('INVALID_PASSKEY', { detail: 'this passkey request belongs to another sign-in' })
      }
      const passkey =
        typeof credential.id === 'string' && credential.id.length <= 1024
          ? await uow.read.passkeys.findByCredentialId(credential.id)
          : undefined
      if (!passkey) {
        await failed(ctx, null, 'unknown_credential')
        throw new AppError('INVALID_PASSKEY', { detail: 'this passkey is not registered here' })
      }
      const userId = passkey.user_id
      if (ceremony.purpose === 'second_factor' && ceremony.userId !== userId) {
        await failed(ctx, ceremony.userId, 'other_account', { passkey_id: passkey.id })
        throw new AppError('INVALID_PASSKEY', { detail: 'this passkey belongs to another account' })
      }
      const handle = credential.response.userHandle
      if (handle && handle !== isoBase64URL.fromUTF8String(userId)) {
        await failed(ctx, userId, 'user_handle_mismatch', { passkey_id: passkey.id })
        throw new AppError('INVALID_PASSKEY', { detail: 'the passkey answered for another account' })
      }
      let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>
      try {
        verified = await verifyAuthenticationResponse({
          response: credential,
          expectedChallenge: challenge,
          expectedOrigin: [...config.origins],
          expectedRPID: config.rpId,
          credential: {
            id: passkey.credential_id,
            publicKey: isoBase64URL.toBuffer(passkey.public_key),
            // Compared below, once the signature is known to be the authenticator's: a forged
            // answer must not be able to write "cloned authenticator" into the audit log.
            counter: 0,
            transports: passkey.transports as AuthenticatorTransport[],
          },
          requireUserVerification: ceremony.purpose === 'passwordless',
        })
      } catch (error) {
        const refusal = refusalOf(error)
        await failed(ctx, userId, refusal.reason, { passkey_id: passkey.id })
        throw new AppError('INVALID_PASSKEY', { detail: refusal.detail })
      }
      if (!verified.verified) {
        await failed(ctx, userId, 'bad_signature', { passkey_id: passkey.id })
        throw new AppError('INVALID_PASSKEY', { detail: 'the signature did not verify' })
      }
      const info = verified.authenticationInfo
      const stored = Number(passkey.sign_count)
      if ((info.newCounter > 0 || stored > 0) && info.newCounter <= stored) {
        await audit.recordAlone(ctx, {
          action: 'passkey.counter_regressed',
          actorId: null,
          targetType: 'passkey',
          targetId: passkey.id,
          metadata: { user_id: userId, stored_counter: stored, received_counter: info.newCounter },
        })
        throw new AppError('INVALID_PASSKEY', {
          detail:
            'this passkey’s signature counter went backwards, a sign the authenticator may have been copied: it was refused; remove it and register the authenticator again',
        })
      }
      const user = await uow.read.users.findCredentialsById(userId)
      if (!user?.is_active) {
        await failed(ctx, userId, 'inactive', { passkey_id: passkey.id })
        throw new AppError('INVALID_PASSKEY', { detail: 'this passkey cannot sign in' })
      }
      if (deps.requireEmailVerification && !user.email_verified)
        throw new AppError('EMAIL_NOT_VERIFIED', {
          detail: 'confirm your e-mail address with the link we sent, then sign in',
        })
      if (ceremony.purpose === 'second_factor' && !(await mfa.consumeChallenge(input.mfaToken ?? '', userId)))
        throw new AppError('INVALID_MFA_CODE', {
          detail: 'the MFA token is invalid or expired; log in again',
        })
      await uow.run(async (repos, tx) => {
        const recorded = await repos.passkeys.recordUse(passkey.id, passkey.sign_count, {
          signCount: info.newCounter,
          backedUp: info.credentialBackedUp,
          now: clock.now(),
        })
        // Another sign-in used this counter value at the same moment: only one of them counts.
        if (!recorded)
          throw new AppError('INVALID_PASSKEY', { detail: 'this passkey was just used; try again' })
        await audit.record(repos, tx, ctx, {
          action: 'passkey.used',
          actorId: userId,
          targetType: 'passkey',
          targetId: passkey.id,
          metadata: { user_id: userId, purpose: ceremony.purpose, user_verified: info.userVerified },
        })
      })
      deps.metrics.login('success')
      return {
        userId,
        passkeyId: passkey.id,
        amr: info.userVerified ? ['hwk', 'user'] : ['hwk'],
      }
    },

    async rename(
      principal: Principal,
      id: string,
      rawName: string,
      ctx: RequestContext,
    ): Promise<PasskeyView> {
      const name = passkeyName(rawName)
      return uow.run(async (repos, tx) => {
        const row = await repos.passkeys.rename(principal.userId, id, name)
        if (!row) throw new AppError('NOT_FOUND', { detail: 'no such passkey on this account' })
        await audit.record(repos, tx, ctx, {
          action: 'passkey.renamed',
          actorId: principal.userId,
          targetType: 'passkey',
          targetId: id,
          metadata: { user_id: principal.userId, name },
        })
        return viewOf(row)
      })
    },

    /** The owner removes one of their passkeys. */
    async remove(principal: Principal, id: string, ctx: RequestContext): Promise<void> {
      await uow.run(async (repos, tx) => {
        await repos.users.lock(principal.userId)
        const user = await repos.users.getById(principal.userId)
        await this.removeIn(repos, tx, user, id, principal.userId, ctx)
      })
    },

    /**
     * Removes a passkey inside a unit of work (the owner's, or an administrator's through the
     * user-admin service's rank check). An account with two-step verification on keeps at least one
     * second factor: its last one cannot go while it is on.
     */
    async removeIn(
      repos: Repositories,
      tx: TransactionContext,
      user: UserRecord,
      id: string,
      actorId: string,
      ctx: RequestContext,
    ): Promise<void> {
      const row = await repos.passkeys.findForUser(user.id, id)
      if (!row) throw new AppError('NOT_FOUND', { detail: 'no such passkey on this account' })
      if (await isLastFactor(repos, user))
        throw new AppError('LAST_SECOND_FACTOR', {
          detail:
            actorId === user.id
              ? 'this passkey is the last second factor of an account with two-step verification on: add another passkey or an authenticator app first, or turn two-step verification off'
              : 'this passkey is the last second factor of an account with two-step verification on: reset the account’s two-step verification first',
        })
      await repos.passkeys.delete(user.id, id)
      await audit.record(repos, tx, ctx, {
        action: 'passkey.removed',
        actorId,
        targetType: 'passkey',
        targetId: id,
        metadata: { user_id: user.id, name: row.name, ...(actorId === user.id ? {} : { by_admin: true }) },
      })
      await mfa.notify(repos, tx, user, 'passkey_removed', { name: row.name })
    },
  }
}

export type PasskeyService = ReturnType<typeof createPasskeyService>
