import { join } from 'node:path'
import { createAccessTokens } from './auth/access-tokens.js'
import { createHashGate, createPasswordHasher, type PasswordHasher } from './auth/password-hasher.js'
import { createSecretBox } from './auth/secret-box.js'
import type { Config } from './config/config.schema.js'
import { sizeThreadPool } from './config/runtime.js'
import { createDatabase, type DatabaseHandle } from './db/database.js'
import { migrateToLatest } from './db/migrator.js'
import { createUnitOfWork } from './db/unit-of-work.js'
import { createEventPublisher } from './events/event-publisher.js'
import { createWebhookSender } from './events/webhook-sender.js'
import { type Resolver, systemResolver } from './events/webhook-target.js'
import { createJobQueue } from './jobs/job-queue.js'
import { createMailOutbox, registerMailJobs } from './jobs/mail-jobs.js'
import { createWebhookDeliverer, registerWebhookJobs } from './jobs/webhook-jobs.js'
import { type Clock, systemClock } from './lib/clock.js'
import { createMailer, type Mailer } from './mail/mailer.js'
import { createTemplates } from './mail/templates.js'
import { createLogger, type Logger } from './observability/logger.js'
import { createMetrics, noMetrics } from './observability/metrics.js'
import { createRepositories } from './repositories/repositories.js'
import { createAuditService } from './services/audit.service.js'
import { createAuthService } from './services/auth.service.js'
import { createAuthStateService } from './services/auth-state.service.js'
import { createBootstrapService } from './services/bootstrap.service.js'
import { createBrowserSessionService } from './services/browser-session.service.js'
import { createEmailChangeService } from './services/email-change.service.js'
import { createEmailFlowsService, RESET_REQUEST_JOB } from './services/email-flows.service.js'
import { createHealthService } from './services/health.service.js'
import { createLoginThrottle } from './services/login-throttle.service.js'
import { createMfaService } from './services/mfa.service.js'
import { createOidcClientService } from './services/oidc-client.service.js'
import { createOidcGrantService } from './services/oidc-grant.service.js'
import { createPasskeyService } from './services/passkey.service.js'
import { createRbacService } from './services/rbac.service.js'
import type { RequestContext } from './services/request-context.js'
import { createSessionService } from './services/session.service.js'
import { createSigningKeyService } from './services/signing-key.service.js'
import { createUserService } from './services/user.service.js'
import { createUserAdminService } from './services/user-admin.service.js'
import { createUserExportService } from './services/user-export.service.js'
import { createUserImportService } from './services/user-import.service.js'
import { createWebhookService } from './services/webhook.service.js'
import { createMemoryStore } from './stores/memory-store.js'
import { createRedisStore } from './stores/redis-store.js'
import type { Store } from './stores/store.js'

export interface KitsuneOptions {
  readonly clock?: Clock
  readonly logger?: Logger
  /** Apply pending migrations at start (default true). */
  readonly migrate?: boolean
  readonly hasher?: PasswordHasher
  readonly mailer?: Mailer
  /** Run queued jobs in this process (default: JOBS_ENABLED); one-shot commands leave them to a server. */
  readonly runJobs?: boolean
  /** Where passkey challenges come from (tests replay recorded ceremonies); random 32 bytes otherwise. */
  readonly passkeyChallenges?: () => Uint8Array<ArrayBuffer>
  /** Webhook delivery knobs tests turn: the answer timeout, the host name resolver, the endpoint cache. */
  readonly webhooks?: {
    readonly timeoutMs?: number
    readonly resolve?: Resolver
    readonly cacheTtlMs?: number
  }
}

/**
 * The composition root: database → stores → services, from the typed config. Tests build the
 * same thing with an in-memory database; nothing here knows about HTTP.
 */
export async function createKitsune(config: Config, options: KitsuneOptions = {}) {
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger(config)
  const metrics = config.metricsEnabled ? createMetrics() : undefined
  const database: DatabaseHandle = await createDatabase(
    config.database,
    logger.child({ component: 'db' }),
    metrics?.dbQuery,
  )
  metrics?.watchPool(database.pool)
  const authMetrics = metrics ?? noMetrics
  let store: Store | undefined
  try {
    if (options.migrate !== false) {
      const applied = await migrateToLatest(database.db)
      if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied')
    }

    if (config.redisUrl) {
      const redis = createRedisStore({
        url: config.redisUrl,
        keyPrefix: config.redisKeyPrefix,
        logger: logger.child({ component: 'redis' }),
        onCommandError: metrics?.redisError,
      })
      store = redis
      if (!(await redis.waitUntilReady(3000)))
        logger.warn({}, 'redis is not reachable yet; authenticated requests answer 503 until it is')
    } else {
      store = createMemoryStore({ clock })
    }

    const jobs = createJobQueue({
      db: database.db,
      clock,
      logger: logger.child({ component: 'jobs' }),
      metrics,
      leaseSeconds: config.jobsLeaseSeconds,
    })
    metrics?.watchQueue(() => jobs.stats())
    const uow = createUnitOfWork(
      database.db,
      createRepositories,
      (error) => logger.error({ err: error }, 'after-commit task failed'),
      jobs,
    )
    // As many hashes at once as libuv has threads; a bounded queue behind them.
    const hasher = options.hasher ?? createPasswordHasher(config.argon2, createHashGate(sizeThreadPool(), 64))
    const secretBox = createSecretBox(config.secretKey)
    const keys = createSigningKeyService({ uow, secretBox, jwt: config.jwt, clock })
    await keys.init()

    const accessTokens = createAccessTokens({
      keys,
      algorithm: config.jwt.algorithm,
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ttlSeconds: config.jwt.accessTokenTtlSeconds,
      clock,
    })
    const authState = createAuthStateService({
      uow,
      store,
      clock,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
    })
    const mailer =
      options.mailer ??
      createMailer({
        smtpUrl: config.smtpUrl,
        from: config.mailFrom,
        logger: logger.child({ component: 'mail' }),
        outboxDir: config.nodeEnv === 'development' ? join(config.dataDir, 'outbox') : undefined,
        logBodies: config.nodeEnv !== 'production',
      })
    const webhookResolve = options.webhooks?.resolve ?? systemResolver
    const publisher = createEventPublisher({ cacheTtlMs: options.webhooks?.cacheTtlMs })
    const audit = createAuditService({
      uow,
      secretKey: config.secretKey,
      clock,
      logger: logger.child({ component: 'audit' }),
      events: publisher,
    })
    const templates = createTemplates(config.publicUrl, config.brand.name)
    const outbox = createMailOutbox(secretBox)
    const mfa = createMfaService({
      uow,
      secretBox,
      hasher,
      audit,
      authState,
      outbox,
      templates,
      store,
      clock,
      issuer: config.mfaIssuer,
    })
    const emailFlows = createEmailFlowsService({
      metrics: authMetrics,
      uow,
      hasher,
      authState,
      audit,
      outbox,
      templates,
      store,
      clock,
      passwordResetTtlSeconds: config.passwordResetTtlSeconds,
      emailVerificationTtlSeconds: config.emailVerificationTtlSeconds,
    })
    const passkeys = createPasskeyService({
      uow,
      store,
      hasher,
      audit,
      authState,
      mfa,
      clock,
      metrics: authMetrics,
      config: config.webauthn,
      rpName: config.brand.name,
      requireEmailVerification: config.requireEmailVerification,
      newChallenge: options.passkeyChallenges,
    })
    const services = {
      audit,
      passkeys,
      emailFlows,
      emailChange: createEmailChangeService({
        uow,
        hasher,
        authState,
        audit,
        outbox,
        templates,
        store,
        clock,
        confirmTtlSeconds: config.emailVerificationTtlSeconds,
      }),
      mfa,
      auth: createAuthService({
        metrics: authMetrics,
        audit,
        emailFlows,
        mfa,
        requireEmailVerification: config.requireEmailVerification,
        throttle: createLoginThrottle({
          store,
          clock,
          maxFailuresPerHour: config.loginMaxFailuresPerHour,
          enabled: config.rateLimitEnabled,
        }),
        uow,
        hasher,
        accessTokens,
        authState,
        clock,
        refreshTokenTtlSeconds: config.jwt.refreshTokenTtlSeconds,
      }),
      sessions: createSessionService({
        metrics: authMetrics,
        uow,
        accessTokens,
        authState,
        audit,
        clock,
        logger: logger.child({ component: 'security' }),
      }),
      users: createUserService({ uow, hasher, authState, audit, clock }),
      rbac: createRbacService({ uow, store, authState, audit }),
      userAdmin: createUserAdminService({ uow, hasher, authState, audit, mfa, passkeys, clock }),
      userImport: createUserImportService({ uow, audit, secretBox, clock }),
      userExport: createUserExportService({ uow, audit, secretBox, clock }),
      clients: createOidcClientService({ uow, secretBox, audit, clock, idTokenAlgorithms: keys.algorithms }),
      oidcGrants: createOidcGrantService({ uow, audit, clock }),
      browserSessions: createBrowserSessionService({
        uow,
        authState,
        audit,
        clock,
        secretKey: config.secretKey,
      }),
      webhooks: createWebhookService({
        uow,
        secretBox,
        audit,
        publisher,
        clock,
        allowPrivate: config.webhooksAllowPrivate,
        resolve: webhookResolve,
      }),
      bootstrap: createBootstrapService({ uow, hasher, authState, audit, clock }),
      keys,
      authState,
      health: createHealthService({ database, store }),
    }

    if (config.admin) {
      const { result } = await services.bootstrap.ensureAdmin(config.admin.email, config.admin.password)
      if (result !== 'unchanged') logger.info({ result }, 'bootstrap administrator ensured (ADMIN_EMAIL)')
    }

    // Expired provider objects (codes, tokens, sessions) are deleted in batches, a day after expiry.
    const purge = setInterval(() => {
      services.oidcGrants
        .purgeExpired()
        .catch((error) => logger.warn({ err: error }, 'purge of expired OIDC objects failed'))
    }, 10 * 60_000)
    purge.unref()

    registerMailJobs(jobs, { secretBox, mailer })
    registerWebhookJobs(
      jobs,
      createWebhookDeliverer({
        uow,
        secretBox,
        audit,
        publisher,
        outbox,
        templates,
        clock,
        metrics,
        sender: createWebhookSender({
          allowPrivate: config.webhooksAllowPrivate,
          resolve: webhookResolve,
          timeoutMs: options.webhooks?.timeoutMs,
        }),
      }),
    )
    jobs.register(RESET_REQUEST_JOB, async (job) => {
      const { email, ctx } = job.payload as { email: string; ctx: RequestContext }
      await services.emailFlows.sendResetLink(email, ctx)
    })
    if (options.runJobs ?? config.jobsEnabled) jobs.start()

    const openStore = store
    return {
      config,
      clock,
      logger,
      database,
      metrics,
      store: openStore,
      // idle(): every e-mail due has been through the queue and handed over (tests, shutdown).
      mailer: {
        ...mailer,
        async idle() {
          await jobs.idle()
          await mailer.idle()
        },
      } satisfies Mailer,
      uow,
      services,
      jobs,
      async close() {
        clearInterval(purge)
        // Drain: the jobs in hand finish; the rest wait in the database for the next instance.
        await jobs.stop()
        keys.close()
        await mailer.close()
        await openStore.close()
        await database.close()
      },
    }
  } catch (error) {
    await store?.close()
    await database.close()
    throw error
  }
}

export type Kitsune = Awaited<ReturnType<typeof createKitsune>>
