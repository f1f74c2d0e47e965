import { createServer, type Server } from 'node:http'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import type { Config } from './config/config.schema.js'
import { ConfigError, loadConfig } from './config/load-config.js'
import { createKitsune } from './kitsune.js'
import type { Metrics } from './observability/metrics.js'

const SHUTDOWN_GRACE_MS = 10_000

/** Process entry: config → Kitsune → HTTP → listen; SIGTERM drains in-flight requests and exits 0. */
export async function serve(): Promise<void> {
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
  const kitsune = await createKitsune(config)
  const server = await buildApp(kitsune)
  await server.app.listen({ host: config.host, port: config.port })
  const metricsServer =
    kitsune.metrics && config.metricsPort !== undefined
      ? await serveMetrics(kitsune.metrics, config)
      : undefined
  kitsune.logger.info(
    { database: kitsune.database.kind, store: kitsune.store.kind, algorithm: config.jwt.algorithm },
    `Kitsune ready: API docs at ${config.publicUrl}/docs`,
  )

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) kitsune.logger.error({ err }, 'shutting down after an error')
    else kitsune.logger.info({ signal }, 'shutting down')
    // Keep-alive sockets would hold close() open: ask clients to reconnect elsewhere.
    server.beginShutdown()
    await server.app.close()
    metricsServer?.close()
    await kitsune.close()
  })
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
