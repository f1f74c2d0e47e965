import type { ParseArgsConfig } from 'node:util'

export interface CommandInput {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
}

/** One CLI command: it reuses the services through createKitsune and returns an exit code. */
export interface Command {
  summary: string
  usage?: string
  help?: string
  options?: ParseArgsConfig['options']
  run(input: CommandInput): Promise<number>
}

/** A failure the user can fix: printed as one line, no stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
  }
}
