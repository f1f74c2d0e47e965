import type { Insertable, Selectable } from 'kysely'
import { sql } from '../db/kysely.js'
import type { OidcClientsTable } from '../db/schema.js'
import type { Executor } from '../db/unit-of-work.js'
import { AppError } from '../errors/app-error.js'

/** A client as read: every column but the sealed secret, which only findWithSealedSecret reads. */
export type OidcClientRecord = Omit<Selectable<OidcClientsTable>, 'client_secret_enc'>

export type NewOidcClientRow = Insertable<OidcClientsTable>

/** The metadata a change may set; the secret has its own method. */
export type OidcClientPatch = Partial<
  Omit<OidcClientRecord, 'client_id' | 'created_at' | 'updated_at' | 'created_by'>
>

const PUBLIC_COLUMNS = [
  'client_id',
  'client_name',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'response_types',
  'token_endpoint_auth_method',
  'scope',
  'backchannel_logout_uri',
  'jwks_uri',
  'first_party',
  'application_type',
  'id_token_signed_response_alg',
  'default_acr_values',
  'permissions',
  'created_at',
  'updated_at',
  'created_by',
] as const

const notFound = () => new AppError('NOT_FOUND', { detail: 'client not found' })

export function createOidcClientRepository(db: Executor) {
  return {
    async findById(clientId: string): Promise<OidcClientRecord | undefined> {
      return db
        .selectFrom('oidc_clients')
        .select(PUBLIC_COLUMNS)
        .where('client_id', '=', clientId)
        .executeTakeFirst()
    },

    async getById(clientId: string): Promise<OidcClientRecord> {
      const client = await this.findById(clientId)
      if (!client) throw notFound()
      return client
    },

    /** Locks the row until the transaction ends, so concurrent changes apply one after the other. */
    async getForUpdate(clientId: string): Promise<OidcClientRecord> {
      const client = await db
        .selectFrom('oidc_clients')
        .select(PUBLIC_COLUMNS)
        .where('client_id', '=', clientId)
        .forUpdate()
        .executeTakeFirst()
      if (!client) throw notFound()
      return client
    },

    /** The only query that reads the sealed secret (for the OpenID Provider, never for HTTP). */
    async findWithSealedSecret(
      clientId: string,
    ): Promise<(OidcClientRecord & { client_secret_enc: string | null }) | undefined> {
      return db
        .selectFrom('oidc_clients')
        .select([...PUBLIC_COLUMNS, 'client_secret_enc'])
        .where('client_id', '=', clientId)
        .executeTakeFirst()
    },

    async insert(row: NewOidcClientRow): Promise<void> {
      await db.insertInto('oidc_clients').values(row).execute()
    },

    /** `sealedSecret` replaces the stored secret when given (null erases it). */
    async update(clientId: string, patch: OidcClientPatch, now: Date, sealedSecret?: string | null) {
      const result = await db
        .updateTable('oidc_clients')
        .set({
          ...patch,
          ...(sealedSecret === undefined ? {} : { client_secret_enc: sealedSecret }),
          updated_at: now,
        })
        .where('client_id', '=', clientId)
        .executeTakeFirst()
      if (result.numUpdatedRows === 0n) throw notFound()
    },

    async delete(clientId: string): Promise<boolean> {
      const result = await db.deleteFrom('oidc_clients').where('client_id', '=', clientId).executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    /** Newest first; a keyset page after (created_at, client_id) is stable while clients are added. */
    async list(filter: { after?: { created_at: Date; client_id: string }; limit: number }) {
      let query = db.selectFrom('oidc_clients').select(PUBLIC_COLUMNS)
      if (filter.after) {
        const { created_at, client_id } = filter.after
        query = query.where(sql<boolean>`(created_at, client_id) < (${created_at}, ${client_id})`)
      }
      return query.orderBy('created_at', 'desc').orderBy('client_id', 'desc').limit(filter.limit).execute()
    },
  }
}

export type OidcClientRepository = ReturnType<typeof createOidcClientRepository>
