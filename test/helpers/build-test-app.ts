import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createKitsune, type Kitsune, type KitsuneOptions } from '../../src/kitsune.js'
import type { Clock } from '../../src/lib/clock.js'
import { createLogger } from '../../src/observability/logger.js'
import type { ProvisionedTarget, TestTarget } from './test-targets.js'

export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef-0123456789'

export interface TestApp {
  readonly app: FastifyInstance
  readonly kitsune: Kitsune
  /** Every log line written so far, parsed. */
  readonly logs: Array<Record<string, unknown>>
  /** The raw log text, to assert that no secret ever appears in it. */
  logText(): string
  inject(options: InjectOptions): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

export interface BuildTestAppOptions {
  readonly target: TestTarget
  readonly env?: Record<string, string>
  readonly clock?: Clock
  readonly kitsune?: Omit<KitsuneOptions, 'clock' | 'logger'>
  /** Reuse a database provisioned by another app (to run two instances on one database). */
  readonly provisioned?: ProvisionedTarget
}

/** Builds Kitsune and its HTTP app on a fresh database, with logs captured in memory. */
export async function buildTestApp(
  options: BuildTestAppOptions,
): Promise<TestApp & { provisioned: ProvisionedTarget }> {
  const provisioned = options.provisioned ?? (await options.target.provision())
  const config = loadConfig({
    NODE_ENV: 'test',
    SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'debug',
    PUBLIC_URL: 'http://kitsune.test',
    KITSUNE_DATA_DIR: '/nonexistent-kitsune-test-data',
    // Suites make many requests from one address; the rate-limit tests set their own limits.
    RATE_LIMIT_GLOBAL: '100000/1m',
    RATE_LIMIT_LOGIN: '100000/1m',
    RATE_LIMIT_REGISTER: '100000/1m',
    RATE_LIMIT_REFRESH: '100000/1m',
    RATE_LIMIT_FORGOT: '100000/1m',
    RATE_LIMIT_MFA: '100000/1m',
    ...provisioned.env,
    ...options.env,
  })
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const logger = createLogger(config, sink)
  const kitsune = await createKitsune(config, { ...options.kitsune, clock: options.clock, logger })
  const server = await buildApp(kitsune)
  return {
    app: server.app,
    kitsune,
    provisioned,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    },
    logText: () => lines.join('\n'),
    inject: (request) => server.app.inject(request),
    async close() {
      await server.app.close()
      await kitsune.close()
      if (!options.provisioned) await provisioned.drop()
    },
  }
}
