import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

export interface SystemTool {
  /** The executable's absolute path, or undefined when it is not installed. */
  readonly path: string | undefined
  /** Skip the suite: the tool is missing on a developer's machine (never in CI, where that is a failure). */
  readonly skip: boolean
  /** For the suite's title: empty when the tool is there, what to install otherwise. */
  readonly note: string
  /** Throws, naming the install command, when the tool is missing (CI runs the suite anyway). */
  require(): string
}

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * A program a suite drives (Chromium, promtool), by absolute path or looked up on PATH. A developer
 * without it gets the suite skipped, its title saying what to install; in CI (`CI` set, as .ci/run
 * does) the suite runs and fails, so a missing package can never turn into a silent pass.
 */
export function systemTool(name: string, installHint: string): SystemTool {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name))
  const path = candidates.find(executable)
  const inCi = Boolean(process.env.CI)
  return {
    path,
    skip: path === undefined && !inCi,
    note: path === undefined ? ` (needs ${name}: ${installHint})` : '',
    require() {
      if (path === undefined) throw new Error(`${name} is not installed (${installHint})`)
      return path
    },
  }
}
