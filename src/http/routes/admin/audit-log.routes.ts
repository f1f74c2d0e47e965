import { validationError } from '../../../errors/app-error.js'
import type { Kitsune } from '../../../kitsune.js'
import type { KitsuneApp } from '../../app-types.js'
import { AuditPage, AuditQuery, AuditVerification } from '../../schemas/admin.schemas.js'
import { problemResponses } from '../../schemas/common.schemas.js'

const tags = ['admin']
const security = [{ bearer: [] }]

function decodeCursor(cursor: string): string {
  const seq = Buffer.from(cursor, 'base64url').toString()
  if (!/^\d{1,19}$/.test(seq)) throw validationError('/query/cursor', 'is not a valid cursor')
  return seq
}

export async function adminAuditLogRoutes(app: KitsuneApp, kitsune: Kitsune): Promise<void> {
  const { audit } = kitsune.services

  app.get('/', {
    config: { permission: 'audit:read' },
    schema: {
      tags,
      security,
      summary: 'Audit entries, newest first',
      querystring: AuditQuery,
      response: { 200: AuditPage, ...problemResponses },
    },
    handler: async (request) => {
      const { limit = 50, cursor, from, to, ...filters } = request.query
      const rows = await audit.list({
        ...filters,
        from: instant(from, '/query/from'),
        to: instant(to, '/query/to'),
        before_seq: cursor ? decodeCursor(cursor) : undefined,
        limit: limit + 1,
      })
      const more = rows.length > limit
      const items = more ? rows.slice(0, limit) : rows
      const last = items[items.length - 1]
      return { items, next_cursor: more && last ? Buffer.from(String(last.seq)).toString('base64url') : null }
    },
  })

  app.get('/verify', {
    config: { permission: 'audit:read' },
    schema: {
      tags,
      security,
      summary: "Check the audit log's hash chain",
      response: { 200: AuditVerification, ...problemResponses },
    },
    handler: async () => audit.verify(),
  })
}

/**
 * A date-time the schema let through as text but JavaScript cannot represent (a leap second such
 * as 23:59:60, a 31 February) is the caller's mistake: 422 naming the parameter, never a 500.
 */
function instant(value: string | undefined, field: string): Date | undefined {
  if (!value) return undefined
  const date = new Date(value)
  if (Number.isNaN(date.getTime()))
    throw validationError(field, 'must be a date-time that exists, such as 2026-01-31T12:00:00Z')
  return date
}
