/** Injectable time source: tests pass a fixed or advancing clock. */
export interface Clock {
  now(): Date
}

export const systemClock: Clock = { now: () => new Date() }

export function fixedClock(
  at: string | Date,
): Clock & { advance(seconds: number): void; set(at: string | Date): void } {
  let current = new Date(at).getTime()
  return {
    now: () => new Date(current),
    advance(seconds) {
      current += seconds * 1000
    },
    set(next) {
      current = new Date(next).getTime()
    },
  }
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000)
}
