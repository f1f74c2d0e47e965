import { hash, verify } from '@node-rs/argon2'

// Kitsune's parameters (OWASP argon2id minimum); 2 is Algorithm.Argon2id (a const enum).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export interface Argon2Timing {
  /** Mean wall time of one verify, ms. */
  readonly wallMs: number
  /** Mean CPU time (user + system, every thread of this process) of one verify, ms: robust on a busy machine. */
  readonly cpuMs: number
}

/** Times one argon2id verify (m=19456, t=2, p=1) in this process, sequentially, averaged over `runs`. */
export async function timeArgon2Verify(runs = 50): Promise<Argon2Timing> {
  const password = 'correct horse battery staple'
  const encoded = await hash(password, OPTIONS)
  await verify(encoded, password) // warm-up: the first call starts the thread pool
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  for (let i = 0; i < runs; i++) {
    if (!(await verify(encoded, password))) throw new Error('argon2 verify returned false')
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6 / runs
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuMs: (used.user + used.system) / 1000 / runs }
}
