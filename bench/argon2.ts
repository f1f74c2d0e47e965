import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { hash, verify } from '@node-rs/argon2'

// Kitsune's parameters (OWASP argon2id minimum); 2 is Algorithm.Argon2id (a const enum).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export interface Argon2Timing {
  /** Mean wall time of one verify, ms. */
  readonly wallMs: number
  /** Mean CPU time (user + system, every thread of the timing process) of one verify, ms: robust on a busy machine. */
  readonly cpuMs: number
  /** Where it ran, e.g. "CPU 0 (the server's), after the workloads". Absent in older runs (the bench process). */
  readonly where?: string
}

/** Times one argon2id verify (m=19456, t=2, p=1) in this process, sequentially, averaged over `runs`. */
export async function timeArgon2VerifyHere(runs = 50): Promise<Argon2Timing> {
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

/**
 * The same timing in a child process with `prefix` (e.g. taskset -c 0: the server's CPU, so the
 * verify and the logins it is compared with run on the same core), best of `rounds` rounds: the
 * lowest mean is the one least disturbed by the rest of the machine.
 */
export function timeArgon2Verify(
  prefix: readonly string[],
  where: string,
  runs = 50,
  rounds = 3,
): Argon2Timing {
  const [command, ...args] = [...prefix, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)]
  let best: Argon2Timing | undefined
  for (let round = 0; round < rounds; round++) {
    const out = execFileSync(command as string, [...args, String(runs)], { encoding: 'utf8' })
    const timing = JSON.parse(out) as Argon2Timing
    if (!best || timing.cpuMs < best.cpuMs) best = timing
  }
  return { ...(best as Argon2Timing), where }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await timeArgon2VerifyHere(Number(process.argv[2] ?? 50))))
}
