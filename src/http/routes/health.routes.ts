import type { Kitsune } from '../../kitsune.js'
import type { KitsuneApp } from '../app-types.js'
import { Type } from '../schemas/type.js'

const Check = Type.Union([
  Type.Literal('ok'),
  Type.Literal('down'),
  Type.Literal('disabled'),
  Type.Literal('pending'),
])
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({ database: Check, redis: Check, migrations: Check }),
})

export async function healthRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  app.get('/live', {
    logLevel: 'warn',
    config: { rateLimit: false },
    schema: {
      tags: ['operations'],
      summary: 'The process is up',
      response: { 200: Type.Object({ status: Type.Literal('ok') }) },
    },
    handler: async () => ({ status: 'ok' as const }),
  })

  app.get('/ready', {
    // Probed every few seconds by orchestrators: only problems are worth a log line.
    logLevel: 'warn',
    config: { rateLimit: false },
    schema: {
      tags: ['operations'],
      summary: 'Database, Redis and migrations are ready (503 names what is not)',
      response: { 200: Readiness, 503: Readiness },
    },
    handler: async (_request, reply) => {
      const readiness = await kitsune.services.health.readiness()
      return reply.code(readiness.status === 'ok' ? 200 : 503).send(readiness)
    },
  })
}
