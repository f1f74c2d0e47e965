import { Redis } from 'ioredis'
import { AppError } from '../errors/app-error.js'
import type { Store } from './store.js'

export interface RedisStoreLogger {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
}

// INCRBY, then set the TTL only when the key is new; returns [value, ttl].
const INCR_SCRIPT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]); ttl = tonumber(ARGV[2]) end
return {v, ttl}`

/**
 * Redis-backed store shared by every instance. The offline queue is off so a dead Redis fails a
 * request at once (503, fail closed) instead of hanging it; ioredis reconnects by itself.
 */
export function createRedisStore(options: {
  url: string
  keyPrefix: string
  logger: RedisStoreLogger
  onCommandError?: () => void
}): Store & { readonly client: Redis; waitUntilReady(timeoutMs: number): Promise<boolean> } {
  const { url, keyPrefix, logger } = options
  const client = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    // Commands issued in the same tick (a request's stacked rate-limit counters, the auth-state
    // reads of concurrent requests) go out in one write.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  })
  let down = false
  client.on('error', (error) => {
    if (!down) logger.warn({ err: { message: error.message } }, 'redis unavailable')
    down = true
  })
  client.on('ready', () => {
    if (down) logger.info({}, 'redis connection restored')
    down = false
  })
  client.defineCommand('kitsuneIncr', { numberOfKeys: 1, lua: INCR_SCRIPT })

  const guard = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation()
    } catch (error) {
      options.onCommandError?.()
      throw new AppError('DEPENDENCY_DOWN', { detail: 'redis unavailable', cause: error })
    }
  }
  const incr = (
    client as unknown as { kitsuneIncr(key: string, by: number, ttl: number): Promise<[number, number]> }
  ).kitsuneIncr

  return {
    kind: 'redis',
    client,
    get: (key) => guard(async () => (await client.get(key)) ?? undefined),
    mget: (keys) => guard(async () => (await client.mget(...keys)).map((v) => v ?? undefined)),
    set: (key, value, ttlSeconds, opts) =>
      guard(async () => {
        const ttl = Math.max(1, Math.ceil(ttlSeconds))
        const result = opts?.onlyIfAbsent
          ? await client.set(key, value, 'EX', ttl, 'NX')
          : await client.set(key, value, 'EX', ttl)
        return result === 'OK'
      }),
    del: (keys) =>
      guard(async () => {
        if (keys.length > 0) await client.del(...keys)
      }),
    take: (key) => guard(async () => (await client.getdel(key)) ?? undefined),
    incr: (key, ttlSeconds, by = 1) =>
      guard(async () => {
        const [value, ttl] = await incr.call(client, key, by, Math.max(1, Math.ceil(ttlSeconds)))
        return { value: Number(value), ttlSeconds: Number(ttl) }
      }),
    ping: () =>
      guard(async () => {
        await client.ping()
      }),
    async waitUntilReady(timeoutMs) {
      if (client.status === 'ready') return true
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          client.off('ready', onReady)
          resolve(false)
        }, timeoutMs)
        const onReady = () => {
          clearTimeout(timer)
          resolve(true)
        }
        client.once('ready', onReady)
      })
    },
    async close() {
      client.disconnect()
    },
  }
}
