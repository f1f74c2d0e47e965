import { randomBytes } from 'node:crypto'
import {
  type ClientMetadata,
  type ClientMetadataInput,
  checkClientMetadata,
  mergeClientMetadata,
  registrationInput,
  usesClientSecret,
  withClientDefaults,
} from '../auth/client-metadata.js'
import { type Permission, rolesGrant } from '../auth/permissions.js'
import type { SecretBox } from '../auth/secret-box.js'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError, validationError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { OidcClientRecord } from '../repositories/oidc-client.repository.js'
import type { Repositories } from '../repositories/repositories.js'
import type { AuditService } from './audit.service.js'
import type { RequestContext } from './request-context.js'

export const MAX_CLIENT_PAGE = 100

export interface OidcClientPage {
  items: OidcClientRecord[]
  next_cursor: string | null
}

/** The answer to a creation: the client and, for a confidential client, its secret (this once). */
export interface OidcClientCreated extends OidcClientRecord {
  client_secret?: string
}

/** A client as the OpenID Provider's adapter hands it over: RFC 7591 metadata with the clear secret. */
export interface EngineClientMetadata {
  client_id: string
  client_name: string
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  grant_types: string[]
  response_types: string[]
  token_endpoint_auth_method: string
  scope: string
  backchannel_logout_uri?: string
  jwks_uri?: string
  client_secret?: string
  application_type: string
  id_token_signed_response_alg: string
  /** Left out when the client registered none (oidc-provider's default: no acr asked for). */
  default_acr_values?: string[]
  /** Kitsune's own metadata (declare it in oidc-provider's extraClientMetadata.properties). */
  first_party: boolean
  /** Kitsune's own: what a client_credentials access token of this client carries (always a list). */
  permissions: string[]
}

/** Who makes a change: an administrator's user id, or null for the command line. */
export type ClientActor = string | null

/** How long an initial access token for dynamic registration opens /oidc/reg, in seconds. */
export const INITIAL_TOKEN_TTL = { default: 3600, min: 60, max: 30 * 86_400 } as const

/**
 * Issues an initial access token in the OpenID Provider's storage (its InitialAccessToken model):
 * given by whoever holds the engine (HTTP application, command line), absent when
 * OIDC_DYNAMIC_REGISTRATION is off.
 */
export type InitialAccessTokenMinter = (ttlSeconds: number) => Promise<{ token: string; expiresAt: Date }>

export interface InitialAccessTokenIssued {
  initial_access_token: string
  expires_at: Date
}

const CLIENT_ID = /^[A-Za-z0-9_-]{1,128}$/
/**
 * A new client_id: 128 random bits, base64url (22 characters), unguessable and safe in URLs and
 * Basic auth. Also the OpenID Provider's `idFactory` for dynamically registered clients.
 */
export const newClientId = (): string => randomBytes(16).toString('base64url')
/**
 * A new client secret: 256 random bits, base64url (43 characters), shown once. Also the OpenID
 * Provider's `secretFactory` for dynamically registered clients.
 */
export const newClientSecret = (): string => randomBytes(32).toString('base64url')
/** Binds a sealed secret to its client: copied onto another row, it does not open. */
const sealContext = (clientId: string) => `oidc-client:${clientId}`

const encodeCursor = (client: OidcClientRecord) =>
  Buffer.from(JSON.stringify([client.created_at.toISOString(), client.client_id])).toString('base64url')

function decodeCursor(cursor: string): { created_at: Date; client_id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[]
    const created = new Date(String(at))
    if (
      typeof at === 'string' &&
      typeof id === 'string' &&
      CLIENT_ID.test(id) &&
      !Number.isNaN(created.getTime())
    )
      return { created_at: created, client_id: id }
  } catch {
    // fall through to the refusal
  }
  throw validationError('/query/cursor', 'is not a valid cursor')
}

function requireValid(metadata: ClientMetadata, idTokenAlgorithms?: readonly string[]): ClientMetadata {
  const checked = checkClientMetadata(metadata)
  const errors = checked.ok ? [] : checked.errors
  const alg = metadata.id_token_signed_response_alg
  if (
    idTokenAlgorithms &&
    !errors.some((e) => e.field === '/id_token_signed_response_alg') &&
    !idTokenAlgorithms.includes(alg)
  )
    errors.push({
      field: '/id_token_signed_response_alg',
      message: `Kitsune holds no ${alg} signing key (it signs with ${idTokenAlgorithms.join(', ')}; JWT_ALGORITHM adds one)`,
    })
  if (checked.ok && errors.length === 0) return checked.metadata
  throw new AppError('VALIDATION_FAILED', {
    detail: errors.map((e) => `${e.field} ${e.message}`).join('; '),
    errors,
  })
}

/**
 * A client's permissions are power handed to whoever holds its secret, so an administrator may
 * only give a client permissions they hold themselves (as with roles: no escalation by
 * delegation); taking them away needs nothing more than clients:write. The command line (actor
 * null) is the operator of the host and may give any.
 */
async function requireHeldPermissions(
  repos: Repositories,
  actor: ClientActor,
  before: readonly string[],
  after: readonly string[],
): Promise<void> {
  const added = after.filter((p) => !before.includes(p))
  if (actor === null || added.length === 0) return
  const roles = (await repos.users.findById(actor))?.roles ?? []
  const grants = await repos.roles.grants()
  const notHeld = added.filter((p) => !rolesGrant(roles, p as Permission, grants))
  if (notHeld.length > 0)
    throw new AppError('FORBIDDEN', {
      detail: `only someone holding a permission can give it to a client: ${notHeld.join(', ')}`,
    })
}

/** The permissions an update gave or took from a client, for its audit entry (none: nothing). */
function permissionChanges(before: readonly string[], after: readonly string[]) {
  const added = after.filter((p) => !before.includes(p))
  const removed = before.filter((p) => !after.includes(p))
  return {
    ...(added.length > 0 ? { permissions_added: added } : {}),
    ...(removed.length > 0 ? { permissions_removed: removed } : {}),
  }
}

/**
 * The registry of OpenID clients. Administrators (HTTP, `clients:*`) and the command line manage
 * it; the OpenID Provider reads it through `findForEngine`. Every change is audited in its own
 * transaction. Client secrets are generated here, returned once, and stored sealed with SECRET_KEY
 * rather than hashed: oidc-provider compares a client_secret_basic / client_secret_post secret
 * with the clear value the adapter returns (Client#compareClientSecret, a constant-time equality)
 * and uses it as the HMAC key of HS256/384/512 objects for that client, so it must be readable.
 */
export function createOidcClientService(deps: {
  uow: UnitOfWork<Repositories>
  secretBox: SecretBox
  audit: AuditService
  clock: Clock
  /**
   * The algorithms Kitsune holds ID token signing keys for (the signing key service's
   * `algorithms`): when given, a client asking for another is refused, since the OpenID Provider
   * would refuse the client. Without it, any of CLIENT_ID_TOKEN_ALGORITHMS is accepted.
   */
  idTokenAlgorithms?: readonly string[]
}) {
  const { uow, secretBox, audit, clock, idTokenAlgorithms } = deps

  const findClient = async (clientId: string) =>
    CLIENT_ID.test(clientId) ? uow.read.oidcClients.findById(clientId) : undefined

  return {
    async list(query: { limit?: number; cursor?: string } = {}): Promise<OidcClientPage> {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), MAX_CLIENT_PAGE)
      const items = await uow.read.oidcClients.list({
        after: query.cursor ? decodeCursor(query.cursor) : undefined,
        limit: limit + 1,
      })
      const more = items.length > limit
      const page = more ? items.slice(0, limit) : items
      return {
        items: page,
        next_cursor: more ? encodeCursor(page[page.length - 1] as OidcClientRecord) : null,
      }
    },

    async get(clientId: string): Promise<OidcClientRecord> {
      const client = await findClient(clientId)
      if (!client) throw new AppError('NOT_FOUND', { detail: 'client not found' })
      return client
    },

    async create(
      actor: ClientActor,
      input: ClientMetadataInput,
      ctx?: RequestContext,
    ): Promise<OidcClientCreated> {
      const metadata = requireValid(withClientDefaults(input), idTokenAlgorithms)
      const clientId = newClientId()
      const secret = usesClientSecret(metadata.token_endpoint_auth_method) ? newClientSecret() : undefined
      const now = clock.now()
      const client = await uow.run(async (repos, tx) => {
        await requireHeldPermissions(repos, actor, [], metadata.permissions)
        await repos.oidcClients.insert({
          client_id: clientId,
          ...metadata,
          client_secret_enc: secret === undefined ? null : secretBox.seal(secret, sealContext(clientId)),
          created_at: now,
          updated_at: now,
          created_by: actor,
        })
        await audit.record(repos, tx, ctx, {
          action: 'client.created',
          actorId: actor,
          targetType: 'client',
          targetId: clientId,
          metadata: {
            client_name: metadata.client_name,
            grant_types: metadata.grant_types,
            token_endpoint_auth_method: metadata.token_endpoint_auth_method,
            first_party: metadata.first_party,
            application_type: metadata.application_type,
            ...(metadata.permissions.length > 0 ? { permissions: metadata.permissions } : {}),
          },
        })
        return repos.oidcClients.getById(clientId)
      })
      return secret === undefined ? client : { ...client, client_secret: secret }
    },

    /**
     * RFC 7591 dynamic registration (OIDC_DYNAMIC_REGISTRATION), for the OpenID Provider's adapter
     * (`Client` model, `upsert`): the engine has checked the request against its own rules, issued
     * the client_id and, for a secret-based method, the secret, and hands over the metadata it
     * registers. The same checks as the admin API apply (registrationInput refuses what the
     * registry cannot keep); the secret is sealed as for any other client. Such a client is never
     * first-party and carries no permissions. Audited as `client.created` (dynamic) with no actor.
     */
    async registerFromEngine(
      clientId: string,
      registration: Readonly<Record<string, unknown>>,
      ctx?: RequestContext,
    ): Promise<void> {
      if (!CLIENT_ID.test(clientId)) throw new Error('the OpenID Provider issued a malformed client_id')
      const parsed = registrationInput(registration)
      if (!parsed.ok)
        throw new AppError('VALIDATION_FAILED', {
          detail: parsed.errors.map((e) => `${e.field} ${e.message}`).join('; '),
          errors: parsed.errors,
        })
      const metadata = requireValid(withClientDefaults(parsed.input), idTokenAlgorithms)
      const issued = typeof registration.client_secret === 'string' ? registration.client_secret : undefined
      const secret = usesClientSecret(metadata.token_endpoint_auth_method) ? issued : undefined
      if (usesClientSecret(metadata.token_endpoint_auth_method) && !issued)
        throw new Error('the OpenID Provider issued no secret for a client_secret method')
      // The engine issues a secret for other reasons too (HMAC algorithms) that Kitsune does not offer.
      if (issued && !secret)
        throw validationError(
          '/token_endpoint_auth_method',
          `a client secret is only issued for ${['client_secret_basic', 'client_secret_post'].join(' or ')}`,
        )
      const now = clock.now()
      await uow.run(async (repos, tx) => {
        await repos.oidcClients.insert({
          client_id: clientId,
          ...metadata,
          client_secret_enc: secret === undefined ? null : secretBox.seal(secret, sealContext(clientId)),
          created_at: now,
          updated_at: now,
          created_by: null,
        })
        await audit.record(repos, tx, ctx, {
          action: 'client.created',
          actorId: null,
          targetType: 'client',
          targetId: clientId,
          metadata: {
            dynamic: true,
            client_name: metadata.client_name,
            grant_types: metadata.grant_types,
            token_endpoint_auth_method: metadata.token_endpoint_auth_method,
            first_party: false,
            application_type: metadata.application_type,
          },
        })
      })
    },

    /**
     * An initial access token for RFC 7591 registration at /oidc/reg (OIDC_DYNAMIC_REGISTRATION),
     * shown this once and good for registrations until it expires. `mint` is absent when
     * registration is off. Audited (`client.initial_token_issued`, never the token itself); an
     * audit that fails leaves a token nobody was shown.
     */
    async issueInitialAccessToken(
      actor: ClientActor,
      options: { ttlSeconds?: number; mint: InitialAccessTokenMinter | undefined },
      ctx?: RequestContext,
    ): Promise<InitialAccessTokenIssued> {
      if (!options.mint)
        throw new AppError('DYNAMIC_REGISTRATION_OFF', {
          detail:
            'dynamic client registration is off: set OIDC_DYNAMIC_REGISTRATION=true to issue initial access tokens',
        })
      const ttl = options.ttlSeconds ?? INITIAL_TOKEN_TTL.default
      if (!Number.isInteger(ttl) || ttl < INITIAL_TOKEN_TTL.min || ttl > INITIAL_TOKEN_TTL.max)
        throw validationError(
          '/ttl_seconds',
          `must be a whole number of seconds from ${INITIAL_TOKEN_TTL.min} to ${INITIAL_TOKEN_TTL.max} (30 days)`,
        )
      const { token, expiresAt } = await options.mint(ttl)
      await audit.recordAlone(ctx, {
        action: 'client.initial_token_issued',
        actorId: actor,
        metadata: { ttl_seconds: ttl, expires_at: expiresAt.toISOString() },
      })
      return { initial_access_token: token, expires_at: expiresAt }
    },

    /**
     * Changes the fields given (a JSON merge patch of the metadata); the result must pass every rule
     * again. A client that authenticates without a secret cannot be switched to a secret method
     * (create a new client: a secret is only ever shown on creation or rotation); switching the
     * other way erases the stored secret.
     */
    async update(
      actor: ClientActor,
      clientId: string,
      patch: ClientMetadataInput,
      ctx?: RequestContext,
    ): Promise<OidcClientRecord> {
      if (!CLIENT_ID.test(clientId)) throw new AppError('NOT_FOUND', { detail: 'client not found' })
      const fields = Object.keys(patch).filter((key) => patch[key as keyof ClientMetadataInput] !== undefined)
      return uow.run(async (repos, tx) => {
        const current = await repos.oidcClients.getForUpdate(clientId)
        const metadata = requireValid(mergeClientMetadata(current, patch), idTokenAlgorithms)
        await requireHeldPermissions(repos, actor, current.permissions, metadata.permissions)
        const hadSecret = usesClientSecret(current.token_endpoint_auth_method)
        const needsSecret = usesClientSecret(metadata.token_endpoint_auth_method)
        if (needsSecret && !hadSecret)
          throw validationError(
            '/token_endpoint_auth_method',
            `this client was registered without a secret (${current.token_endpoint_auth_method}); register a new client to use ${metadata.token_endpoint_auth_method}`,
          )
        await repos.oidcClients.update(
          clientId,
          metadata,
          clock.now(),
          hadSecret && !needsSecret ? null : undefined,
        )
        await audit.record(repos, tx, ctx, {
          action: 'client.updated',
          actorId: actor,
          targetType: 'client',
          targetId: clientId,
          metadata: {
            fields,
            ...permissionChanges(current.permissions, metadata.permissions),
            ...(hadSecret && !needsSecret ? { secret_erased: true } : {}),
          },
        })
        return repos.oidcClients.getById(clientId)
      })
    },

    /** A new secret replaces the old one at once (the old one stops working); shown this once. */
    async rotateSecret(
      actor: ClientActor,
      clientId: string,
      ctx?: RequestContext,
    ): Promise<{ client_id: string; client_secret: string }> {
      if (!CLIENT_ID.test(clientId)) throw new AppError('NOT_FOUND', { detail: 'client not found' })
      const secret = newClientSecret()
      await uow.run(async (repos, tx) => {
        const current = await repos.oidcClients.getForUpdate(clientId)
        if (!usesClientSecret(current.token_endpoint_auth_method))
          throw new AppError('CONFLICT', {
            detail: `this client authenticates without a secret (${current.token_endpoint_auth_method}); there is none to rotate`,
          })
        await repos.oidcClients.update(
          clientId,
          {},
          clock.now(),
          secretBox.seal(secret, sealContext(clientId)),
        )
        await audit.record(repos, tx, ctx, {
          action: 'client.secret_rotated',
          actorId: actor,
          targetType: 'client',
          targetId: clientId,
        })
      })
      return { client_id: clientId, client_secret: secret }
    },

    async delete(actor: ClientActor, clientId: string, ctx?: RequestContext): Promise<void> {
      if (!CLIENT_ID.test(clientId)) throw new AppError('NOT_FOUND', { detail: 'client not found' })
      await uow.run(async (repos, tx) => {
        const current = await repos.oidcClients.getForUpdate(clientId)
        await repos.oidcClients.delete(clientId)
        await audit.record(repos, tx, ctx, {
          action: 'client.deleted',
          actorId: actor,
          targetType: 'client',
          targetId: clientId,
          metadata: { client_name: current.client_name },
        })
      })
    },

    /**
     * For the OpenID Provider's adapter (`Client` model, `find(id)`): the client's RFC 7591 metadata
     * with its secret unsealed, or undefined for an unknown client. Never exposed over HTTP. Absent
     * optional fields are left out rather than null, as oidc-provider's metadata schema expects.
     */
    async findForEngine(clientId: string): Promise<EngineClientMetadata | undefined> {
      if (!CLIENT_ID.test(clientId)) return undefined
      const row = await uow.read.oidcClients.findWithSealedSecret(clientId)
      if (!row) return undefined
      return {
        client_id: row.client_id,
        client_name: row.client_name,
        redirect_uris: row.redirect_uris,
        post_logout_redirect_uris: row.post_logout_redirect_uris,
        grant_types: row.grant_types,
        response_types: row.response_types,
        token_endpoint_auth_method: row.token_endpoint_auth_method,
        scope: row.scope,
        ...(row.backchannel_logout_uri ? { backchannel_logout_uri: row.backchannel_logout_uri } : {}),
        ...(row.jwks_uri ? { jwks_uri: row.jwks_uri } : {}),
        ...(row.client_secret_enc
          ? { client_secret: secretBox.open(row.client_secret_enc, sealContext(row.client_id)) }
          : {}),
        application_type: row.application_type,
        id_token_signed_response_alg: row.id_token_signed_response_alg,
        ...(row.default_acr_values.length > 0 ? { default_acr_values: row.default_acr_values } : {}),
        first_party: row.first_party,
        permissions: row.permissions,
      }
    },
  }
}

export type OidcClientService = ReturnType<typeof createOidcClientService>
