#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/load-config.js'
import { CliError, type Command } from './command.js'
import { auditPruneCommand, auditVerifyCommand } from './commands/audit.command.js'
import { createAdminCommand } from './commands/create-admin.command.js'
import { keysRotateCommand } from './commands/keys-rotate.command.js'
import { migrateCommand } from './commands/migrate.command.js'
import { serveCommand } from './commands/serve.command.js'
import { usersImportCommand } from './commands/users-import.command.js'

const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  migrate: migrateCommand,
  'keys rotate': keysRotateCommand,
  'users create-admin': createAdminCommand,
  'users import': usersImportCommand,
  'audit verify': auditVerifyCommand,
  'audit prune': auditPruneCommand,
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, command]) => `  kitsune ${name.padEnd(14)} ${command.summary}`,
  )
  return `Usage: kitsune <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun "kitsune <command> --help" for a command's options.\nExit codes: 0 success, 1 failure, 2 usage or configuration error.\n`
}

/** Dispatches `kitsune <command> [sub-command] [options]`; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const words = argv.filter((arg) => !arg.startsWith('-'))
  const name = [words.slice(0, 2).join(' '), words[0] ?? ''].find((candidate) => candidate in COMMANDS)
  if (!name) {
    const help = argv.length === 0 || argv.includes('--help') || argv.includes('-h')
    ;(help ? process.stdout : process.stderr).write(usage())
    return help ? 0 : 2
  }
  const command = COMMANDS[name] as Command
  const rest = argv.slice(argv.indexOf(name.split(' ').at(-1) as string) + 1)
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      options: { help: { type: 'boolean', short: 'h' }, ...command.options },
      allowPositionals: true,
      strict: true,
    })
    if (values.help) {
      process.stdout.write(
        `Usage: kitsune ${name} ${command.usage ?? ''}\n\n${command.summary}\n${command.help ?? ''}`,
      )
      return 0
    }
    return await command.run({ values, positionals })
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stderr.write(`kitsune: configuration error: ${problem}\n`)
      return 2
    }
    if (error instanceof CliError) {
      process.stderr.write(`kitsune ${name}: ${error.message}\n`)
      return error.exitCode
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`kitsune ${name}: ${error.message}\n`)
      return 2
    }
    process.stderr.write(`kitsune ${name}: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
}

// A successful command ends when its handles close (`serve` keeps listening); a failure exits now.
const exitCode = await runCli(process.argv.slice(2))
if (exitCode !== 0) process.exit(exitCode)
