import cluster from 'node:cluster'
import { createServer, type Server } from 'node:http'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import type { Config } from './config/config.schema.js'
import { ConfigError, loadConfig } from './config/load-config.js'
import { isDependencyDown } from './errors/app-error.js'
import { createKitsune, type Kitsune } from './kitsune.js'
import type { Metrics } from './observability/metrics.js'

const SHUTDOWN_GRACE_MS = 10_000
const MAX_RESTARTS_PER_MINUTE = 5

/**
 * Process entry: config → Kitsune → HTTP → listen; SIGTERM drains in-flight requests and exits 0.
 * With `workers` > 1 this process becomes a cluster primary that forks that many servers.
 */
export async function serve(options: { workers?: number } = {}): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(undefined, { isTty: Boolean(process.stdout.isTTY) })
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`kitsune: configuration error: ${problem}\n`)
      process.exit(2)
    }
    throw error
  }
  if ((options.workers ?? 1) > 1 && cluster.isPrimary) return runPrimary(config, options.workers as number)
  const kitsune = await createKitsune(config)
  const server = await buildApp(kitsune)
  await server.app.listen({ host: config.host, port: config.port })
  const metricsServer =
    kitsune.metrics && config.metricsPort !== undefined
      ? await serveMetrics(kitsune.metrics, config)
      : undefined
  kitsune.logger.info(
    {
      database: kitsune.database.kind,
      store: kitsune.store.kind,
      algorithm: config.jwt.algorithm,
      node: process.version,
      // The bound address itself, e.g. the port chosen for PORT=0 or the one a proxy forwards to.
      listening: server.app.listeningOrigin,
    },
    `Kitsune ready: API docs at ${config.publicUrl}/docs`,
  )

  let draining: Promise<void> | undefined
  const drain = () => {
    draining ??= (async () => {
      // Keep-alive sockets would hold close() open: ask clients to reconnect elsewhere.
      server.beginShutdown()
      await server.app.close()
      metricsServer?.close()
      await kitsune.close()
    })()
    return draining
  }
  closeWithGrace(
    { delay: SHUTDOWN_GRACE_MS, skip: ['uncaughtException', 'unhandledRejection'] },
    async ({ signal }) => {
      kitsune.logger.info({ signal }, 'shutting down')
      await drain()
    },
  )
  watchProcessErrors(kitsune.logger, drain)
}

/**
 * Which errors end the process (docs/operations.md, "Errors and restarts"):
 * - a dependency's connection breaking (PostgreSQL or Redis crashed, restarted, failed over) is
 *   never fatal: requests answer 503 until it is back, and the pools reconnect by themselves. Each
 *   client has its own error listener, so such an error should not get here; if one does, it is
 *   logged with its stack (a listener is missing) and the process carries on.
 * - anything else that escapes (an uncaught exception or an unhandled rejection) means the code
 *   did something it did not plan for and its state is unknown: it is logged at fatal, in-flight
 *   requests drain for up to SHUTDOWN_GRACE_MS, and the process exits 1 for its supervisor (or the
 *   cluster primary) to start a fresh one.
 */
export function watchProcessErrors(logger: Kitsune['logger'], drain: () => Promise<void>): void {
  let fatal = false
  const onError = (err: unknown, origin: string) => {
    if (isDependencyDown(err)) {
      logger.error({ err, origin }, 'dependency connection error outside any request; carrying on')
      return
    }
    if (fatal) {
      logger.fatal({ err, origin }, 'second unexpected error while shutting down; exiting now')
      process.exit(1)
    }
    fatal = true
    logger.fatal({ err, origin }, 'unexpected error; shutting down')
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref()
    drain().then(
      () => process.exit(1),
      () => process.exit(1),
    )
  }
  process.on('uncaughtException', (err, origin) => onError(err, origin))
  process.on('unhandledRejection', (reason) => onError(reason, 'unhandledRejection'))
}

/** METRICS_PORT: /metrics on a listener of its own, to keep off the public network. */
async function serveMetrics(metrics: Metrics, config: Config): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end()
      return
    }
    metrics.registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(config.metricsPort, config.host, resolve))
  return server
}

/**
 * Cluster primary: checks that the deployment can be shared by several processes, forks the
 * workers (each a full Kitsune on the same port), replaces a worker that dies, and on SIGTERM
 * passes the signal on and exits once every worker has drained.
 */
function runPrimary(config: Config, workers: number): void {
  const refuse = (message: string) => {
    process.stderr.write(`kitsune serve: ${message}\n`)
    process.exit(2)
  }
  if (config.database.kind !== 'postgres') {
    refuse(
      '--workers needs PostgreSQL (DATABASE_URL=postgres://…): the embedded database belongs to one process only',
    )
  }
  if (!config.redisUrl) {
    refuse(
      '--workers needs REDIS_URL: without it each process would keep its own revocations and rate limits',
    )
  }
  let stopping = false
  let restarts: number[] = []
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0 && signal !== 'SIGTERM') process.exitCode = 1
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(process.exitCode ?? 0)
      return
    }
    // A worker that keeps dying (e.g. the database is unreachable at start) must not loop forever.
    const now = Date.now()
    restarts = restarts.filter((at) => now - at < 60_000)
    if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      process.stderr.write(
        `kitsune: workers keep exiting (${restarts.length} restarts in a minute); giving up\n`,
      )
      process.exitCode = 1
      stop()
      return
    }
    restarts.push(now)
    process.stderr.write(
      `kitsune: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    )
    setTimeout(() => cluster.fork(), 1000)
  })
  const stop = () => {
    if (stopping) return
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS + 2000).unref()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  for (let i = 0; i < workers; i++) cluster.fork()
}
