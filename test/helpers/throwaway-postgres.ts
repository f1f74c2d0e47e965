import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './cli-process.js'

/**
 * A PostgreSQL cluster of a test's own (initdb + pg_ctl from the machine's binaries, in a temp dir,
 * on a free port), for tests that crash the server: the machine's shared server is never touched.
 */
export interface ThrowawayPostgres {
  readonly url: string
  readonly port: number
  /** The postmaster's pid, read from postmaster.pid. */
  postmasterPid(): number
  /** SIGKILLs the postmaster, as a host crash would, and waits until it is gone. */
  crash(): Promise<void>
  /** Starts the cluster again (crash recovery runs first); resolves once it accepts connections. */
  start(): Promise<void>
  /** Stops the cluster and deletes its directory. */
  destroy(): Promise<void>
}

/** The directory of initdb/pg_ctl: the newest /usr/lib/postgresql/N/bin, else PATH. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0]) return join(root, versions[0], 'bin')
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' })
  return which.status === 0 ? join(which.stdout.trim(), '..') : undefined
}

// initdb and postgres refuse to run as root: as root, run them as the postgres system user.
function asServerUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] }
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { prefix: ['runuser', '-u', 'postgres', '--'], uid, gid }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir()
  if (!bin) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) are not installed')
  const user = asServerUser()
  const dir = mkdtempSync(join(tmpdir(), 'kitsune-pg-'))
  const data = join(dir, 'data')
  if (user.uid !== undefined && user.gid !== undefined) {
    chownSync(dir, user.uid, user.gid)
    chmodSync(dir, 0o700)
  }
  const run = (command: string, args: string[]) => {
    const [file, ...rest] = [...user.prefix, join(bin, command), ...args]
    const result = spawnSync(file as string, rest, { encoding: 'utf8', cwd: dir })
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` }
  }
  const init = run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-N', '--no-locale', '-E', 'UTF8'])
  if (!init.ok) throw new Error(`initdb failed:\n${init.output}`)
  const port = await freePort()
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c max_connections=50',
  ].join(' ')

  const start = async () => {
    // Right after a SIGKILL the old backends may still hold the shared memory for a moment.
    let last = ''
    for (let attempt = 0; attempt < 40; attempt++) {
      const result = run('pg_ctl', [
        '-D',
        data,
        '-o',
        options,
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '30',
        'start',
      ])
      if (result.ok) return
      last = result.output
      await sleep(250)
    }
    throw new Error(`pg_ctl start failed:\n${last}\n${readLog()}`)
  }
  const readLog = () => {
    try {
      return readFileSync(join(dir, 'server.log'), 'utf8').slice(-4000)
    } catch {
      return ''
    }
  }
  const postmasterPid = () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])

  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    postmasterPid,
    async crash() {
      const pid = postmasterPid()
      process.kill(pid, 'SIGKILL')
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(50)
    },
    start,
    async destroy() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
