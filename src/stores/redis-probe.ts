import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { describeNetworkError } from '../lib/network-error.js'

export interface RedisProbe {
  /** host:port, never the credentials. */
  readonly address: string
  readonly version?: string
}

/**
 * Connects once (no retries), PINGs, then writes, reads and deletes a probe key under `keyPrefix`:
 * an ACL may let the user PING yet forbid the key patterns Kitsune uses. Throws with what failed.
 */
export async function probeRedis(url: string, keyPrefix: string, timeoutMs: number): Promise<RedisProbe> {
  const parsed = new URL(url)
  const address = `${parsed.hostname}:${parsed.port || '6379'}`
  const client = new Redis(url, {
    keyPrefix,
    lazyConnect: true,
    // PING is the readiness check: every command below has commandTimeout, INFO at connect has none.
    enableReadyCheck: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  })
  // The socket's error (ECONNREFUSED…) says more than the "Connection is closed" a command rejects with.
  let socketError: unknown
  client.on('error', (error) => {
    socketError ??= error
  })
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      const cause = socketError ?? error
      throw new Error(`${address}: ${what}: ${describeNetworkError(cause)}`, { cause })
    }
  }
  try {
    await step('connect', () => client.connect())
    const pong = await step('PING', () => client.ping())
    if (pong !== 'PONG') throw new Error(`${address}: PING answered ${pong}`)
    const key = `doctor:probe:${randomBytes(6).toString('hex')}`
    const value = randomBytes(8).toString('hex')
    await step(`SET ${keyPrefix}${key} (does the ACL allow keys under the prefix?)`, () =>
      client.set(key, value, 'EX', 60),
    )
    const read = await step(`GET ${keyPrefix}${key}`, () => client.get(key))
    await step(`DEL ${keyPrefix}${key}`, () => client.del(key))
    if (read !== value)
      throw new Error(`${address}: the probe key read back ${read === null ? 'nothing' : 'another value'}`)
    const info = await client.info('server').catch(() => '')
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1]
    return { address, version }
  } finally {
    client.disconnect()
  }
}
