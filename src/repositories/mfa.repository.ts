import type { Executor } from '../db/unit-of-work.js'

export function createMfaRepository(db: Executor) {
  return {
    async findTotp(userId: string) {
      return db
        .selectFrom('mfa_totp')
        .select(['secret_enc', 'confirmed_at', 'last_used_step'])
        .where('user_id', '=', userId)
        .executeTakeFirst()
    },

    /** Starts (or restarts) a pending enrolment. */
    async upsertPendingTotp(userId: string, secretEnc: string, now: Date): Promise<void> {
      await db
        .insertInto('mfa_totp')
        .values({ user_id: userId, secret_enc: secretEnc, created_at: now })
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet({
            secret_enc: secretEnc,
            created_at: now,
            confirmed_at: null,
            last_used_step: null,
          }),
        )
        .execute()
    },

    /**
     * Records `step` as used, only if it is newer than the last used one: a code is accepted at
     * most once, even by concurrent requests (the row lock decides). Also confirms a pending factor.
     */
    async useStep(userId: string, step: number, now: Date, confirm: boolean): Promise<boolean> {
      let query = db
        .updateTable('mfa_totp')
        .set({ last_used_step: step, ...(confirm ? { confirmed_at: now } : {}) })
        .where('user_id', '=', userId)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', String(step))]))
      query = confirm ? query.where('confirmed_at', 'is', null) : query.where('confirmed_at', 'is not', null)
      const result = await query.executeTakeFirst()
      return result.numUpdatedRows > 0n
    },

    async deleteAll(userId: string): Promise<boolean> {
      await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute()
      const result = await db.deleteFrom('mfa_totp').where('user_id', '=', userId).executeTakeFirst()
      return result.numDeletedRows > 0n
    },

    /** Confirmed authenticators and their unused recovery codes for many users (imports). */
    async insertMany(
      totp: ReadonlyArray<{ user_id: string; secret_enc: string; created_at: Date; confirmed_at: Date }>,
      recoveryCodes: ReadonlyArray<{ user_id: string; code_hash: string; created_at: Date }>,
    ): Promise<void> {
      if (totp.length > 0)
        await db
          .insertInto('mfa_totp')
          .values([...totp])
          .execute()
      if (recoveryCodes.length > 0)
        await db
          .insertInto('mfa_recovery_codes')
          .values([...recoveryCodes])
          .execute()
    },

    /** Confirmed authenticators and unused recovery codes of these users (exports). */
    async secretsFor(userIds: readonly string[]) {
      if (userIds.length === 0) return { totp: [], recoveryCodes: [] }
      const [totp, recoveryCodes] = await Promise.all([
        db
          .selectFrom('mfa_totp')
          .select(['user_id', 'secret_enc'])
          .where('user_id', 'in', userIds)
          .where('confirmed_at', 'is not', null)
          .execute(),
        db
          .selectFrom('mfa_recovery_codes')
          .select(['user_id', 'code_hash'])
          .where('user_id', 'in', userIds)
          .where('used_at', 'is', null)
          .execute(),
      ])
      return { totp, recoveryCodes }
    },

    async replaceRecoveryCodes(userId: string, hashes: readonly string[], now: Date): Promise<void> {
      await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute()
      await db
        .insertInto('mfa_recovery_codes')
        .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now })))
        .execute()
    },

    async useRecoveryCode(userId: string, hash: string, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('mfa_recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    },

    async setEnabled(userId: string, enabled: boolean, now: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ mfa_enabled: enabled, updated_at: now })
        .where('id', '=', userId)
        .execute()
    },
  }
}

export type MfaRepository = ReturnType<typeof createMfaRepository>
