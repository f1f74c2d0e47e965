import type { FastifyInstance } from 'fastify'
import type { RateLimitName, RateLimitPolicy } from '../../config/config.schema.js'
import { AppError } from '../../errors/app-error.js'
import type { AuthMetrics } from '../../observability/metrics.js'
import type { Store } from '../../stores/store.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A tighter per-IP limit for this route, on top of the global one; false skips both. */
    rateLimit?: Exclude<RateLimitName, 'global'> | false
  }
}

/**
 * Fixed-window per-IP limits on the shared store (Redis or memory), stacked: every request counts
 * against `global` and, where a route names one, its own tighter policy. Answers 429 with
 * `Retry-After` and the IETF draft `RateLimit-*` headers. The store being down fails the request
 * (503), never lets it through unchecked.
 */
export function registerRateLimits(
  app: FastifyInstance,
  store: Store,
  policies: Readonly<Record<RateLimitName, RateLimitPolicy>>,
  metrics?: AuthMetrics,
): void {
  app.addHook('onRequest', async (request, reply) => {
    const routePolicy = request.routeOptions.config.rateLimit
    if (routePolicy === false) return
    const names: RateLimitName[] = routePolicy ? ['global', routePolicy] : ['global']
    const counts = await Promise.all(
      names.map((name) => store.incr(`rl:${name}:${request.ip}`, policies[name].windowSeconds)),
    )
    // Report the policy closest to its limit.
    let tightest = 0
    for (let i = 1; i < names.length; i++) {
      const remainingHere = policies[names[i] as RateLimitName].max - (counts[i]?.value ?? 0)
      const remainingBest = policies[names[tightest] as RateLimitName].max - (counts[tightest]?.value ?? 0)
      if (remainingHere < remainingBest) tightest = i
    }
    const policy = policies[names[tightest] as RateLimitName]
    const count = counts[tightest] ?? { value: 0, ttlSeconds: policy.windowSeconds }
    reply.header('ratelimit-limit', policy.max)
    reply.header('ratelimit-remaining', Math.max(0, policy.max - count.value))
    reply.header('ratelimit-reset', count.ttlSeconds)
    const exceeded = names.findIndex((name, i) => (counts[i]?.value ?? 0) > policies[name].max)
    if (exceeded >= 0) {
      if (routePolicy === 'login') metrics?.login('rate_limited')
      throw new AppError('RATE_LIMITED', {
        detail: `too many requests; try again in ${counts[exceeded]?.ttlSeconds} seconds`,
        retryAfter: counts[exceeded]?.ttlSeconds,
      })
    }
  })
}
