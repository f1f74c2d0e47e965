/** The error `within` rejects with when the work did not settle in time. */
export class TimedOut extends Error {}

/**
 * Settles as `work` does, or rejects with TimedOut (`no answer within N ms`) after `ms`. The work
 * itself is not cancelled; a failure it reports after the timeout has nobody waiting for it.
 */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  work.catch(() => {})
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimedOut(`no answer within ${ms} ms`)), ms)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
