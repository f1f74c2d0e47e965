import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import { Webhook } from 'standardwebhooks'
import {
  guardedLookup,
  hostOf,
  isDisallowedAddress,
  type Resolver,
  TargetRefusedError,
} from './webhook-target.js'

/** Any 2xx within this time is a success (API.md). */
export const DEFAULT_TIMEOUT_MS = 10_000
/** What is read of an answer: enough to free the socket, never stored. */
const MAX_RESPONSE_BYTES = 64 * 1024

export interface WebhookAttempt {
  ok: boolean
  status: number | null
  /** Why it failed (no secret, no response body). */
  error: string | null
  /** From the request to the end of the answer (or the failure). */
  ms: number
  refused: boolean
}

/**
 * POSTs one signed delivery (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature
 * over `id.timestamp.body`). Redirects are not followed; the connection goes to the address the
 * guarded lookup checked.
 */
export function createWebhookSender(deps: {
  allowPrivate: boolean
  resolve: Resolver
  timeoutMs?: number
  /** The signature's timestamp: the wall clock, which the receiver compares with its own. */
  now?: () => Date
}) {
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const now = deps.now ?? (() => new Date())
  const lookup = guardedLookup(deps.allowPrivate, deps.resolve)

  return {
    async send(target: { url: string; secret: string; id: string; body: string }): Promise<WebhookAttempt> {
      const started = performance.now()
      const elapsed = () => Math.round(performance.now() - started)
      let url: URL
      try {
        url = new URL(target.url)
      } catch {
        return { ok: false, status: null, error: 'invalid URL', ms: 0, refused: true }
      }
      const host = hostOf(url)
      if (!deps.allowPrivate && isIP(host) !== 0 && isDisallowedAddress(host)) {
        const error = new TargetRefusedError(`${host} is a loopback, private or link-local address`)
        return { ok: false, status: null, error: error.message, ms: 0, refused: true }
      }
      const sentAt = now()
      const signature = new Webhook(target.secret).sign(target.id, sentAt, target.body)
      const body = Buffer.from(target.body)
      const request = url.protocol === 'https:' ? https.request : http.request
      return new Promise<WebhookAttempt>((resolve) => {
        let settled = false
        const done = (attempt: Omit<WebhookAttempt, 'ms'>) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          resolve({ ...attempt, ms: elapsed() })
        }
        const req = request(
          url,
          {
            method: 'POST',
            agent: false,
            lookup,
            headers: {
              'content-type': 'application/json',
              'content-length': body.length,
              'user-agent': 'Kitsune-Webhooks/1',
              'webhook-id': target.id,
              'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
              'webhook-signature': signature,
            },
          },
          (res) => {
            const status = res.statusCode ?? 0
            let read = 0
            res.on('data', (chunk: Buffer) => {
              read += chunk.length
              if (read > MAX_RESPONSE_BYTES) res.destroy()
            })
            const finish = () =>
              done(
                status >= 200 && status < 300
                  ? { ok: true, status, error: null, refused: false }
                  : { ok: false, status, error: `HTTP ${status}`, refused: false },
              )
            res.on('end', finish)
            res.on('close', finish)
            res.on('error', finish)
          },
        )
        const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
        req.on('error', (error: Error) => {
          const refused = error instanceof TargetRefusedError
          done({ ok: false, status: null, error: error.message.slice(0, 500), refused })
        })
        req.end(body)
      })
    },
  }
}

export type WebhookSender = ReturnType<typeof createWebhookSender>
