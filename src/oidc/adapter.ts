import type { Adapter, AdapterPayload, KoaContextWithOIDC } from 'oidc-provider'
import Provider, { errors } from 'oidc-provider'
import type { UnitOfWork } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { Repositories } from '../repositories/repositories.js'
import type { OidcClientService } from '../services/oidc-client.service.js'
import { type RequestContext, requestContextOf } from '../services/request-context.js'
import type { Store } from '../stores/store.js'
import { failClosed } from './errors.js'

/**
 * Models kept in the shared store (Redis, or memory for one instance): an interaction lives for
 * minutes between two redirects of one sign-in, and losing it only makes that person start again.
 * Everything else is durable (grants, sessions, refresh tokens, codes…): a code issued by one
 * instance is redeemed on another, and ending a Kitsune session can end them in one transaction.
 */
const STORE_MODELS = new Set(['Interaction'])

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const str = (value: unknown) => (typeof value === 'string' ? value : undefined)

export interface AdapterDeps {
  readonly uow: UnitOfWork<Repositories>
  readonly store: Store
  readonly clients: OidcClientService
  readonly clock: Clock
}

/**
 * oidc-provider's storage interface (docs: "adapter") over Kitsune's database and store. Clients
 * come from Kitsune's client registry; the engine writes one only through dynamic registration
 * (OIDC_DYNAMIC_REGISTRATION), which the registry checks and stores as its own.
 */
export function createAdapterClass(deps: AdapterDeps): new (model: string) => Adapter {
  const { uow, store, clients, clock } = deps
  const payloads = () => uow.read.oidcPayloads
  const storeKey = (model: string, id: string) => `oidc:${model}:${id}`

  return class KitsuneAdapter implements Adapter {
    readonly #model: string

    constructor(model: string) {
      this.#model = model
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const model = this.#model
      if (model === 'Client') {
        await registerClient(clients, id, payload)
        return
      }
      await failClosed(async () => {
        if (STORE_MODELS.has(model)) {
          await store.set(storeKey(model, id), JSON.stringify(payload), Math.max(1, Math.ceil(expiresIn)))
          return
        }
        const accountId = str(payload.accountId)
        const expiresAt = expiresIn ? new Date(clock.now().getTime() + expiresIn * 1000) : null
        await payloads().upsert(model, id, payload as Record<string, unknown>, expiresAt, {
          grant_id: str(payload.grantId),
          uid: str(payload.uid),
          user_code: str(payload.userCode),
          client_id: str(payload.clientId),
          user_id: accountId && UUID.test(accountId) ? accountId : null,
          // An engine session records the Kitsune session it was signed in with (oidc/provider.ts).
          session_id:
            model === 'Session' ? str((payload as { kitsuneSessionId?: unknown }).kitsuneSessionId) : null,
        })
      })
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      const model = this.#model
      return failClosed(async () => {
        if (model === 'Client') {
          const client = await clients.findForEngine(id)
          if (!client) return undefined
          // Logout tokens name the session (sid), as Kitsune's ID tokens always do.
          return (
            client.backchannel_logout_uri ? { ...client, backchannel_logout_session_required: true } : client
          ) as AdapterPayload
        }
        if (STORE_MODELS.has(model)) {
          const raw = await store.get(storeKey(model, id))
          return raw === undefined ? undefined : (JSON.parse(raw) as AdapterPayload)
        }
        return present(await payloads().find(model, id, clock.now()))
      })
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return failClosed(async () => present(await payloads().findBy(this.#model, 'uid', uid, clock.now())))
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return failClosed(async () =>
        present(await payloads().findBy(this.#model, 'user_code', userCode, clock.now())),
      )
    }

    async consume(id: string): Promise<void> {
      await failClosed(() => payloads().consume(this.#model, id, clock.now()))
    }

    async destroy(id: string): Promise<void> {
      const model = this.#model
      // Registration management (RFC 7592) is off: clients are deleted through Kitsune only.
      if (model === 'Client') throw new Error('clients are deleted through Kitsune, not the engine')
      await failClosed(async () => {
        if (STORE_MODELS.has(model)) await store.del([storeKey(model, id)])
        else await payloads().destroy(model, id)
      })
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await failClosed(() => payloads().revokeByGrantId(grantId))
    }
  }
}

/**
 * A client registered at /oidc/reg (RFC 7591): Kitsune's registry checks and stores it. Kitsune's
 * refusal becomes the engine's 400 invalid_client_metadata (invalid_redirect_uri when it starts
 * with a redirect URI, RFC 7591 section 3.2.2), naming each field and why.
 */
async function registerClient(clients: OidcClientService, id: string, payload: AdapterPayload) {
  try {
    await failClosed(() =>
      clients.registerFromEngine(id, payload as Record<string, unknown>, registrantContext()),
    )
  } catch (error) {
    if (error instanceof AppError && error.code === 'VALIDATION_FAILED') {
      const problems = error.errors?.map((e) => `${e.field.replace(/^\//, '')} ${e.message}`)
      throw new errors.InvalidClientMetadata(
        problems?.join('; ') ?? error.detail ?? 'invalid client metadata',
      )
    }
    throw error
  }
}

/** Who registered, for the audit entry: the request the engine is answering (its AsyncLocalStorage). */
function registrantContext(): RequestContext | undefined {
  const ctx = (Provider as unknown as { ctx?: KoaContextWithOIDC }).ctx
  if (!ctx) return undefined
  const requestId = ctx.res.getHeader('x-request-id')
  return requestContextOf({
    ip: ctx.ip,
    id: typeof requestId === 'string' ? requestId : '',
    headers: { 'user-agent': ctx.get('user-agent') || undefined },
  })
}

function present(
  stored: { payload: Record<string, unknown>; consumed_at: Date | null } | undefined,
): AdapterPayload | undefined {
  if (!stored) return undefined
  const payload = stored.payload as AdapterPayload
  return stored.consumed_at
    ? { ...payload, consumed: Math.floor(stored.consumed_at.getTime() / 1000) }
    : payload
}
