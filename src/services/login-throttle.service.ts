import { AppError } from '../errors/app-error.js'
import type { Clock } from '../lib/clock.js'
import type { Store } from '../stores/store.js'

const FREE_FAILURES = 5
const MAX_DELAY_SECONDS = 15 * 60
const ACCOUNT_WINDOW_SECONDS = 3600
const IP_ACCOUNT_WINDOW_SECONDS = 15 * 60
const IP_ACCOUNT_MAX_FAILURES = 10

/**
 * Brute-force protection for password logins (OWASP Authentication cheat sheet, NIST SP 800-63B
 * 5.2.2). Consecutive failures on an account make it wait exponentially longer (1 s, 2 s, 4 s…
 * capped at 15 minutes) whichever IP the guesses come from, and an account never takes more than
 * `maxFailuresPerHour` wrong passwords in an hour. Every lock expires by itself: an attacker can
 * slow a victim's login down but never lock them out for good. A success clears the account's
 * counters. Unknown e-mails are throttled exactly like real ones, so the answers leak nothing.
 */
export function createLoginThrottle(deps: {
  store: Store
  clock: Clock
  maxFailuresPerHour: number
  enabled: boolean
}) {
  const { store, clock, maxFailuresPerHour, enabled } = deps
  const keys = (email: string, ip: string) => ({
    failures: `bf:n:${email}`,
    lock: `bf:lock:${email}`,
    ipFailures: `bf:ipn:${ip}:${email}`,
    ipLock: `bf:iplock:${ip}:${email}`,
  })

  const retryAfter = (until: string | undefined): number | undefined => {
    if (until === undefined) return undefined
    const seconds = Math.ceil((Number(until) - clock.now().getTime()) / 1000)
    return seconds > 0 ? seconds : undefined
  }

  const lock = async (key: string, seconds: number) => {
    await store.set(key, String(clock.now().getTime() + seconds * 1000), seconds)
  }

  return {
    /**
     * Throws RATE_LIMITED (with Retry-After) while the account, or this IP on it, must wait.
     * Returns whether failures are on record, so a success only clears counters that exist.
     */
    async check(email: string, ip: string): Promise<boolean> {
      if (!enabled) return false
      const k = keys(email, ip)
      const [accountLock, ipLock, failures, ipFailures] = await store.mget([
        k.lock,
        k.ipLock,
        k.failures,
        k.ipFailures,
      ])
      const wait = Math.max(retryAfter(accountLock) ?? 0, retryAfter(ipLock) ?? 0)
      if (wait > 0) {
        throw new AppError('RATE_LIMITED', {
          detail: `too many failed logins; try again in ${wait} seconds`,
          retryAfter: wait,
        })
      }
      return failures !== undefined || ipFailures !== undefined
    },

    /**
     * Counts a failure. Returns the lock's length in seconds when this failure is the one that
     * reached the hourly cap (the account now waits out the hour: `user.locked`), else undefined.
     */
    async failed(email: string, ip: string): Promise<number | undefined> {
      if (!enabled) return undefined
      const k = keys(email, ip)
      const [account, pair] = await Promise.all([
        store.incr(k.failures, ACCOUNT_WINDOW_SECONDS),
        store.incr(k.ipFailures, IP_ACCOUNT_WINDOW_SECONDS),
      ])
      let capped: number | undefined
      if (account.value >= maxFailuresPerHour) {
        await lock(k.lock, account.ttlSeconds)
        if (account.value === maxFailuresPerHour) capped = account.ttlSeconds
      } else if (account.value >= FREE_FAILURES) {
        await lock(k.lock, Math.min(2 ** (account.value - FREE_FAILURES), MAX_DELAY_SECONDS))
      }
      if (pair.value >= IP_ACCOUNT_MAX_FAILURES) await lock(k.ipLock, pair.ttlSeconds)
      return capped
    },

    async succeeded(email: string, ip: string): Promise<void> {
      if (!enabled) return
      const k = keys(email, ip)
      await store.del([k.failures, k.lock, k.ipFailures, k.ipLock])
    },
  }
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>
