import { treeMemoryMiB } from './proc.js'

export interface RssSample {
  /** Seconds since the start of the run. */
  readonly seconds: number
  /** VmRSS summed over the server's processes, MiB. */
  readonly rssMiB: number
}

export interface RssSeries {
  readonly intervalSeconds: number
  readonly startMiB: number | null
  readonly endMiB: number | null
  readonly maxMiB: number | null
  /** The start, one sample every intervalSeconds, and the end. */
  readonly samples: readonly RssSample[]
}

/** Samples the server's RSS (primary and workers) from the start of a run to its end. */
export class RssSampler {
  private readonly samples: RssSample[] = []
  private readonly started = Date.now()
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly pid: number,
    private readonly intervalSeconds = 10,
  ) {
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalSeconds * 1000)
  }

  private sample(): void {
    const rssMiB = treeMemoryMiB(this.pid, 'VmRSS')
    if (rssMiB !== undefined) this.samples.push({ seconds: (Date.now() - this.started) / 1000, rssMiB })
  }

  stop(): RssSeries {
    clearInterval(this.timer)
    this.sample()
    const values = this.samples.map((s) => s.rssMiB)
    return {
      intervalSeconds: this.intervalSeconds,
      startMiB: values[0] ?? null,
      endMiB: values.at(-1) ?? null,
      maxMiB: values.length > 0 ? Math.max(...values) : null,
      samples: this.samples,
    }
  }
}
