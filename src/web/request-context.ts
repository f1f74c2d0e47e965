import type { FastifyRequest } from 'fastify'
import { storableHeaderText } from '../lib/storable-text.js'
import type { RequestContext } from '../services/request-context.js'

/**
 * Who is asking, for the audit log, exactly as the JSON API's routes tell the services (see
 * contextOf in http/plugins/authenticate.ts): headers cleaned of text PostgreSQL cannot store.
 */
export function requestContextOf(request: FastifyRequest): RequestContext {
  const userAgent = request.headers['user-agent']
  return {
    ip: typeof request.ip === 'string' ? storableHeaderText(request.ip) : request.ip,
    userAgent: userAgent ? storableHeaderText(userAgent.slice(0, 512)) : null,
    requestId: request.id,
  }
}
