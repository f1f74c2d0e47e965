import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createDatabase, DataDirInUse } from '../../src/db/database.js'

const logger = { info() {}, warn() {}, error() {} }
const config = (dir: string) => ({
  kind: 'pglite' as const,
  url: undefined,
  pgliteDataDir: dir,
  poolMax: 1,
  logQueries: false,
})

describe('the embedded database directory is one process’s', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'kitsune-lock-'))
    dirs.push(dir)
    return dir
  }

  it('refuses a second opener while the first holds it, and lets it in after close', async () => {
    const dir = fresh()
    const first = await createDatabase(config(dir), logger)
    expect(readFileSync(join(dir, 'kitsune.lock'), 'utf8')).toBe(String(process.pid))
    await expect(createDatabase(config(dir), logger)).rejects.toBeInstanceOf(DataDirInUse)
    await first.close()
    const second = await createDatabase(config(dir), logger)
    await second.close()
  })

  it('takes over a lock left by a process that is gone', async () => {
    const dir = fresh()
    writeFileSync(join(dir, 'kitsune.lock'), '2147483646')
    const db = await createDatabase(config(dir), logger)
    expect(readFileSync(join(dir, 'kitsune.lock'), 'utf8')).toBe(String(process.pid))
    await db.close()
  })
})
