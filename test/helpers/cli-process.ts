import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { request } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { TEST_SECRET_KEY } from './build-test-app.js'
import { createPostgresDatabase, TEST_DATABASE_URL } from './test-targets.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// By absolute path, so the child can run in a scratch directory and never reads a developer's .env.
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const CLI = join(ROOT, 'src/cli/main.ts')
// CI builds dist/ before the tests and sets KITSUNE_TEST_CLI=dist: the CLI processes then run the
// built JavaScript (what `npm start` and the Docker image run) and start without compiling.
const BUILT_CLI = join(ROOT, 'dist/cli/main.js')
const USE_BUILT = process.env.KITSUNE_TEST_CLI === 'dist'
if (USE_BUILT && !existsSync(BUILT_CLI))
  throw new Error('KITSUNE_TEST_CLI=dist but dist/ is not built: npm run build')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface CliProcess {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves when the process exits; rejects (naming its output) if it is still running after `ms`. */
  exited(ms?: number): Promise<CliResult>
}

export interface CliTarget {
  readonly name: string
  /** A database that consecutive CLI processes share (a file-backed PGlite holds no server). */
  provision(dir: string): Promise<{ url: string; drop(): Promise<void> }>
}

export const cliTargets: CliTarget[] = [
  {
    name: 'PGlite file',
    provision: async (dir) => ({ url: `pglite://${join(dir, 'db')}`, drop: async () => {} }),
  },
  ...(TEST_DATABASE_URL ? [{ name: 'PostgreSQL', provision: () => createPostgresDatabase() }] : []),
]

const running = new Set<ChildProcess>()

/** The environment every CLI run gets: nothing inherited but PATH and HOME. */
export function cliEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dataDir,
    NODE_ENV: 'test',
    SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    KITSUNE_DATA_DIR: dataDir,
    ...extra,
  }
}

/** Starts `kitsune <args>` in its own process group (so a cluster's workers can be cleaned up too). */
export function startCli(args: string[], env: Record<string, string>, input?: string): CliProcess {
  const entry = USE_BUILT ? [BUILT_CLI] : ['--import', TSX_LOADER, CLI]
  return startNode([...entry, ...args], env, env.KITSUNE_DATA_DIR ?? ROOT, input, `kitsune ${args.join(' ')}`)
}

/**
 * Starts `node <args>` in `cwd`, in its own process group, collecting its output; killAllCli ends
 * it if it is still running.
 */
export function startNode(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  input?: string,
  label = args.filter((arg) => !arg.startsWith('-') && !arg.startsWith('file:')).join(' '),
): CliProcess {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  running.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += String(chunk)
  })
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk)
  })
  child.stdin?.end(input)
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child)
      resolve({ code, signal, stdout, stderr })
    })
  })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited(ms = 120_000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${label} still running after ${ms} ms:\n${stderr}`)), ms)
      })
      return Promise.race([done, timeout]).finally(() => clearTimeout(timer))
    },
  }
}

/** Runs `kitsune <args>` to completion. */
export function runCli(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  return startCli(args, env, input).exited()
}

/** SIGKILLs every CLI process group still running (for afterAll). */
export function killAllCli(): void {
  for (const child of running) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  running.clear()
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface HttpResult {
  status: number
  body: string
  json<T = Record<string, unknown>>(): T
}

/** One HTTP request on a fresh connection (no keep-alive), so a cluster may hand it to any worker. */
export function http(
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body)
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        agent: false,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (response) => {
        let body = ''
        response.on('data', (chunk) => {
          body += String(chunk)
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body, json: () => JSON.parse(body) }),
        )
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

/** Polls `url` until it answers 200; fails early with the output if the process exits first. */
export async function waitUntilReady(url: string, serve: CliProcess, deadlineMs = 120_000): Promise<void> {
  const until = Date.now() + deadlineMs
  while (Date.now() < until) {
    if (serve.child.exitCode !== null || serve.child.signalCode !== null)
      throw new Error(`kitsune serve exited (${serve.child.exitCode}):\n${serve.stderr()}${serve.stdout()}`)
    const status = await http(url).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${url} not ready within ${deadlineMs} ms:\n${serve.stderr()}${serve.stdout()}`)
}
