import { availableParallelism } from 'node:os'
import type { Environment } from './config.schema.js'

/**
 * Sizes libuv's thread pool (where argon2 runs) to the machine's cores unless UV_THREADPOOL_SIZE
 * is set. Must run before anything uses the pool: libuv reads the variable when it starts it.
 */
export function sizeThreadPool(env: Record<string, string | undefined> & Environment = process.env): number {
  if (!env.UV_THREADPOOL_SIZE) env.UV_THREADPOOL_SIZE = String(Math.max(1, availableParallelism()))
  return Number(env.UV_THREADPOOL_SIZE)
}
