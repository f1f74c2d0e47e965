import type { Executor } from '../db/unit-of-work.js'
import { createAuditLogRepository } from './audit-log.repository.js'
import { createEmailTokenRepository } from './email-token.repository.js'
import { createMfaRepository } from './mfa.repository.js'
import { createOidcClientRepository } from './oidc-client.repository.js'
import { createOidcPayloadRepository } from './oidc-payload.repository.js'
import { createPasskeyRepository } from './passkey.repository.js'
import { createRefreshTokenRepository } from './refresh-token.repository.js'
import { createRoleRepository } from './role.repository.js'
import { createSessionRepository } from './session.repository.js'
import { createSigningKeyRepository } from './signing-key.repository.js'
import { createUserRepository } from './user.repository.js'
import { createUserEmailRepository } from './user-email.repository.js'
import { createWebhookRepository } from './webhook.repository.js'

/** Every repository over one executor (the pool, or a unit of work's transaction). */
export function createRepositories(executor: Executor) {
  return {
    users: createUserRepository(executor),
    userEmails: createUserEmailRepository(executor),
    sessions: createSessionRepository(executor),
    refreshTokens: createRefreshTokenRepository(executor),
    signingKeys: createSigningKeyRepository(executor),
    roles: createRoleRepository(executor),
    auditLog: createAuditLogRepository(executor),
    emailTokens: createEmailTokenRepository(executor),
    mfa: createMfaRepository(executor),
    oidcClients: createOidcClientRepository(executor),
    oidcPayloads: createOidcPayloadRepository(executor),
    passkeys: createPasskeyRepository(executor),
    webhooks: createWebhookRepository(executor),
  }
}

export type Repositories = ReturnType<typeof createRepositories>
