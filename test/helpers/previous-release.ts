import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type CliProcess, killAllCli, startNode } from './cli-process.js'

export { startNode }

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href

export interface Release {
  readonly version: string
  readonly commit: string
}

/** The release this one must upgrade from without downtime (test/upgrade/previous-release.json). */
export const PREVIOUS_RELEASE: Release = JSON.parse(
  readFileSync(join(ROOT, 'test/upgrade/previous-release.json'), 'utf8'),
) as Release

function git(args: string[], input?: Buffer): Buffer {
  return execFileSync('git', args, { cwd: ROOT, input, maxBuffer: 512 * 1024 * 1024, stdio: 'pipe' })
}

/** Fails, naming the way out, when the commit is not in this clone's history (a shallow clone). */
export function assertInHistory(commit: string): void {
  try {
    git(['cat-file', '-e', `${commit}^{commit}`])
  } catch {
    throw new Error(
      `the previous release's commit ${commit} (test/upgrade/previous-release.json) is not in this clone's history: the upgrade test needs it. Fetch the full history (git fetch --unshallow) and run again`,
    )
  }
}

/** File names under `dir` in the given commit. */
export function filesAt(commit: string, dir: string): string[] {
  assertInHistory(commit)
  return String(git(['ls-tree', '--name-only', `${commit}:${dir}`]))
    .split('\n')
    .filter(Boolean)
}

/** One file's content in the given commit. */
export function fileAt(commit: string, path: string): string {
  assertInHistory(commit)
  return String(git(['show', `${commit}:${path}`]))
}

export interface ReleaseTree {
  readonly dir: string
  /** The release's CLI entry point (TypeScript, run through tsx). */
  readonly cli: string
  remove(): void
}

/**
 * The commit's files in a scratch directory outside the repository (so neither the typecheck nor
 * the linter sees them), running on this checkout's node_modules: a previous release's
 * dependencies are a subset of the current ones.
 */
export function extractRelease(commit: string): ReleaseTree {
  assertInHistory(commit)
  const dir = mkdtempSync(join(tmpdir(), 'kitsune-release-'))
  try {
    execFileSync('tar', ['-x', '-C', dir], { input: git(['archive', '--format=tar', commit]), stdio: 'pipe' })
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    dir,
    cli: join(dir, 'src/cli/main.ts'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** This checkout's CLI entry point. */
export const CURRENT_CLI = join(ROOT, 'src/cli/main.ts')

/** Starts `kitsune <args>` from the given entry point, in its own process group. */
export function startKitsune(cli: string, args: string[], env: Record<string, string>): CliProcess {
  return startNode(['--import', TSX_LOADER, cli, ...args], env, env.KITSUNE_DATA_DIR ?? ROOT)
}

/** SIGKILLs every process group startKitsune or startNode started that is still running. */
export const killAllKitsune = killAllCli
