import type { Clock } from '../lib/clock.js'
import type { Store } from './store.js'

interface Entry {
  value: string
  expiresAt: number
}

/**
 * In-process store for a single instance. Bounded: when full, the oldest entries go first. Every
 * entry is either a cache or a counter whose loss is safe (caches fall back to the database).
 */
export function createMemoryStore(options: { clock: Clock; maxEntries?: number }): Store {
  const { clock, maxEntries = 200_000 } = options
  const entries = new Map<string, Entry>()
  const now = () => clock.now().getTime()

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key)
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key)
      return undefined
    }
    return entry
  }
  const put = (key: string, value: string, ttlSeconds: number) => {
    entries.delete(key)
    if (entries.size >= maxEntries) {
      const oldest = entries.keys().next()
      if (!oldest.done) entries.delete(oldest.value)
    }
    entries.set(key, { value, expiresAt: now() + ttlSeconds * 1000 })
  }

  const sweep = setInterval(() => {
    const at = now()
    for (const [key, entry] of entries) if (entry.expiresAt <= at) entries.delete(key)
  }, 60_000)
  sweep.unref()

  return {
    kind: 'memory',
    async get(key) {
      return live(key)?.value
    },
    async mget(keys) {
      return keys.map((key) => live(key)?.value)
    },
    async set(key, value, ttlSeconds, opts) {
      if (opts?.onlyIfAbsent && live(key)) return false
      put(key, value, ttlSeconds)
      return true
    },
    async del(keys) {
      for (const key of keys) entries.delete(key)
    },
    async take(key) {
      const value = live(key)?.value
      entries.delete(key)
      return value
    },
    async incr(key, ttlSeconds, by = 1) {
      const entry = live(key)
      if (!entry) {
        put(key, String(by), ttlSeconds)
        return { value: by, ttlSeconds }
      }
      entry.value = String(Number(entry.value) + by)
      return {
        value: Number(entry.value),
        ttlSeconds: Math.max(1, Math.ceil((entry.expiresAt - now()) / 1000)),
      }
    },
    async ping() {},
    async close() {
      clearInterval(sweep)
      entries.clear()
    },
  }
}
