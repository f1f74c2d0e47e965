import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { processTree } from './proc.js'

/** Newest modification time of the files under a directory (0 when it does not exist). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs)
  }
  return newest
}

/** Runs `npm run build` when dist/ is missing or older than src/. */
export function buildIfStale(root: string): boolean {
  const entry = join(root, 'dist', 'cli', 'main.js')
  if (existsSync(entry) && newestMtime(join(root, 'dist')) >= newestMtime(join(root, 'src'))) return false
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  } catch {
    throw new Error(
      'npm run build failed: src/ does not compile (or use --skip-build to run the current dist/)',
    )
  }
  return true
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => resolve(port))
    })
  })
}

export interface ServerOptions {
  readonly root: string
  readonly port: number
  /** Command prefix such as ['taskset', '-c', '0']. */
  readonly prefix: readonly string[]
  /** Variables on top of the bench defaults (DATABASE_URL, REDIS_URL…). */
  readonly env: Readonly<Record<string, string>>
  /** Extra node flags, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */
  readonly nodeArgs?: readonly string[]
  readonly secretKey: string
  /** `serve --workers N` (cluster mode) when > 1. */
  readonly workers?: number
}

export interface RunningServer {
  readonly pid: number
  readonly baseUrl: string
  /** From spawning the process to the first 200 from /health/ready (polled every 10 ms), ms. */
  readonly readyMs: number
  /** The server's stderr/stdout so far (warnings and errors only at LOG_LEVEL=warn). */
  output(): string
  stop(): Promise<number | null>
}

/** Starts `node dist/cli/main.js serve` in production mode and waits until /health/ready answers 200. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(options.port),
    SECRET_KEY: options.secretKey,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    // Rate limiting stays on (its per-request cost is part of the real path) with limits no
    // workload reaches; a limit hit would turn the login and register workloads into 429s.
    RATE_LIMIT_GLOBAL: '1000000000/1m',
    RATE_LIMIT_LOGIN: '1000000000/1m',
    RATE_LIMIT_REGISTER: '1000000000/1m',
    RATE_LIMIT_REFRESH: '1000000000/1m',
    KITSUNE_DATA_DIR: mkdtempSync(join(tmpdir(), 'kitsune-bench-')),
    ...options.env,
  }
  const workers = options.workers ?? 1
  const command = [
    ...options.prefix,
    process.execPath,
    ...(options.nodeArgs ?? []),
    'dist/cli/main.js',
    'serve',
    ...(workers > 1 ? ['--workers', String(workers)] : []),
  ]
  const spawnedAt = performance.now()
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: options.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const baseUrl = `http://127.0.0.1:${options.port}`
  await waitReady(child, baseUrl, () => output)
  const readyMs = performance.now() - spawnedAt
  if (workers > 1) await waitWorkers(child, workers, () => output)
  return {
    // taskset execs the command, so the child's pid is node's own.
    pid: child.pid as number,
    baseUrl,
    readyMs,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/**
 * Cluster mode: /health/ready answers as soon as one worker listens; wait until the primary has
 * all its workers and give the last ones a moment to listen too (seeding follows anyway).
 */
async function waitWorkers(child: ChildProcess, workers: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (processTree(child.pid as number).length < workers + 1) {
    if (Date.now() > deadline)
      throw new Error(`Kitsune did not start ${workers} workers in 60 s:\n${output()}`)
    await sleep(100)
  }
  await sleep(2000)
}

async function waitReady(child: ChildProcess, baseUrl: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`Kitsune exited with code ${child.exitCode} before it was ready:\n${output()}`)
    }
    try {
      const response = await fetch(`${baseUrl}/health/ready`)
      if (response.status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(10)
  }
  child.kill('SIGKILL')
  throw new Error(`Kitsune was not ready within 60 s:\n${output()}`)
}
