/**
 * Shared ephemeral state: revocation markers, auth-state caches, rate-limit counters.
 * Redis when REDIS_URL is set (shared by every instance), in-process memory otherwise.
 * Every method rejects with AppError DEPENDENCY_DOWN when the backing store cannot answer, so
 * callers fail closed.
 */
export interface Store {
  readonly kind: 'redis' | 'memory'
  get(key: string): Promise<string | undefined>
  mget(keys: readonly string[]): Promise<Array<string | undefined>>
  /** Sets with a TTL; with `onlyIfAbsent`, returns false and leaves the value when the key exists. */
  set(key: string, value: string, ttlSeconds: number, options?: { onlyIfAbsent?: boolean }): Promise<boolean>
  del(keys: readonly string[]): Promise<void>
  /** Reads and deletes in one step: of concurrent takers, exactly one gets the value (single-use tokens). */
  take(key: string): Promise<string | undefined>
  /** Adds `by` and returns the new value; the TTL is set when the key is created. */
  incr(key: string, ttlSeconds: number, by?: number): Promise<{ value: number; ttlSeconds: number }>
  ping(): Promise<void>
  close(): Promise<void>
}
