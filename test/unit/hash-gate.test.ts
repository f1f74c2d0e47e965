import { describe, expect, it } from 'vitest'
import { createHashGate } from '../../src/auth/password-hasher.js'
import { AppError } from '../../src/errors/app-error.js'

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('hash gate', () => {
  it('runs at most `concurrency` hashes at once and starts queued ones as others finish', async () => {
    const gate = createHashGate(2, 10)
    let running = 0
    let peak = 0
    const jobs = Array.from({ length: 6 }, () => deferred())
    const results = jobs.map((job, i) =>
      gate(async () => {
        running++
        peak = Math.max(peak, running)
        await job.promise
        running--
        return i
      }),
    )
    for (const job of jobs) {
      await new Promise((r) => setTimeout(r, 1))
      job.resolve()
    }
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4, 5])
    expect(peak).toBe(2)
  })

  it('refuses with SERVER_BUSY (503, Retry-After 1) once the queue is full, and recovers', async () => {
    const gate = createHashGate(1, 1)
    const first = deferred()
    const running = gate(() => first.promise)
    const queued = gate(async () => 'queued')
    const refused = gate(async () => 'refused').catch((error: unknown) => error)
    const error = await refused
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ code: 'SERVER_BUSY', retryAfter: 1 })
    first.resolve()
    await running
    expect(await queued).toBe('queued')
    expect(await gate(async () => 'later')).toBe('later')
  })
})
