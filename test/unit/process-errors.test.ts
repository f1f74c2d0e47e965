import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href
const MAIN = pathToFileURL(join(ROOT, 'src/main.ts')).href

/** Runs a script that installs Kitsune's process-level error policy, then misbehaves. */
function run(misbehave: string) {
  const script = `
    import { pino } from 'pino'
    import { watchProcessErrors } from '${MAIN}'
    watchProcessErrors(pino(), async () => { console.log(JSON.stringify({ msg: 'drained' })) })
    ${misbehave}`
  const result = spawnSync(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { msg: string; level?: number })
  return { code: result.status, messages: lines.map((l) => l.msg), lines, stderr: result.stderr }
}

describe('process-level errors (docs/operations.md, "Errors and restarts")', () => {
  it('logs a broken dependency connection that escaped and carries on', () => {
    const { code, messages } = run(`
      setTimeout(() => { throw Object.assign(new Error('Connection terminated unexpectedly')) }, 10)
      setTimeout(() => Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 20)
      setTimeout(() => { console.log(JSON.stringify({ msg: 'still serving' })); process.exit(0) }, 100)`)
    expect(
      messages.filter((m) => m === 'dependency connection error outside any request; carrying on'),
    ).toHaveLength(2)
    expect(messages).toContain('still serving')
    expect(messages).not.toContain('drained')
    expect(code).toBe(0)
  })

  it('logs any other uncaught exception at fatal, drains, and exits 1', () => {
    const { code, messages, lines } = run(`setTimeout(() => { throw new TypeError('a bug') }, 10)`)
    expect(lines.find((l) => l.msg === 'unexpected error; shutting down')?.level).toBe(60)
    expect(messages).toContain('drained')
    expect(code).toBe(1)
  })

  it('treats an unhandled rejection that is not a dependency error the same way: exit 1', () => {
    const { code, messages } = run(`setTimeout(() => Promise.reject(new Error('nobody awaited this')), 10)`)
    expect(messages).toContain('unexpected error; shutting down')
    expect(messages).toContain('drained')
    expect(code).toBe(1)
  })
})
