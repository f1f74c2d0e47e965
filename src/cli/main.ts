#!/usr/bin/env node
import '../lib/quiet-warnings.js'
import { parseArgs } from 'node:util'
import { ConfigError } from '../config/load-config.js'
import { sizeThreadPool } from '../config/runtime.js'
import { CliError, type Command } from './command.js'

// Commands load on demand: `serve` must start tracing before the application modules load.
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  serve: {
    summary: 'Run the HTTP service (what `npm start` runs); --workers N forks N processes',
    load: async () => (await import('./commands/serve.command.js')).serveCommand,
  },
  migrate: {
    summary: 'Apply pending database migrations',
    load: async () => (await import('./commands/migrate.command.js')).migrateCommand,
  },
  'keys rotate': {
    summary: 'Make a new signing key current; the old one verifies until its tokens expire',
    load: async () => (await import('./commands/keys-rotate.command.js')).keysRotateCommand,
  },
  'users create-admin': {
    summary: 'Create an administrator, or give an existing account the admin role',
    load: async () => (await import('./commands/create-admin.command.js')).createAdminCommand,
  },
  'users import': {
    summary: 'The earlier name of `kitsune import jsonl`',
    load: async () => (await import('./commands/users-import.command.js')).usersImportCommand,
  },
  import: {
    summary:
      'Import users from keycloak, supabase, auth0, firebase or Kitsune jsonl, keeping their password hashes',
    load: async () => (await import('./commands/import.command.js')).importCommand,
  },
  export: {
    summary: 'Export users, roles and password hashes as Kitsune JSONL (--include-mfa: sealed TOTP secrets)',
    load: async () => (await import('./commands/export.command.js')).exportCommand,
  },
  doctor: {
    summary: 'Check configuration, database, migrations, keys, audit head, Redis, SMTP and clock',
    load: async () => (await import('./commands/doctor.command.js')).doctorCommand,
  },
  'audit verify': {
    summary: "Check the audit log's hash chain (exit 1 when broken)",
    load: async () => (await import('./commands/audit.command.js')).auditVerifyCommand,
  },
  'audit prune': {
    summary: 'Delete audit entries older than AUDIT_RETENTION_DAYS, keeping the chain verifiable',
    load: async () => (await import('./commands/audit.command.js')).auditPruneCommand,
  },
  'jobs list': {
    summary: 'List jobs of the durable queue (--state dead: what could not be done)',
    load: async () => (await import('./commands/jobs.command.js')).jobsListCommand,
  },
  'jobs retry': {
    summary: 'Put a dead job back in the queue (exit 1 if it is not dead)',
    load: async () => (await import('./commands/jobs.command.js')).jobsRetryCommand,
  },
  'clients create': {
    summary: 'Register an OpenID client; prints its client_id and, if confidential, its secret (once)',
    load: async () => (await import('./commands/clients.command.js')).clientsCreateCommand,
  },
  'clients list': {
    summary: 'List OpenID clients',
    load: async () => (await import('./commands/clients.command.js')).clientsListCommand,
  },
  'clients show': {
    summary: "Show an OpenID client's metadata",
    load: async () => (await import('./commands/clients.command.js')).clientsShowCommand,
  },
  'clients rotate-secret': {
    summary: "Replace a confidential client's secret (printed once)",
    load: async () => (await import('./commands/clients.command.js')).clientsRotateSecretCommand,
  },
  'clients delete': {
    summary: 'Delete an OpenID client',
    load: async () => (await import('./commands/clients.command.js')).clientsDeleteCommand,
  },
  'clients initial-token': {
    summary: 'Issue an initial access token for dynamic client registration (printed once)',
    load: async () => (await import('./commands/clients.command.js')).clientsInitialTokenCommand,
  },
  'webhooks add': {
    summary: 'Register a webhook endpoint; prints its id and signing secret (once)',
    load: async () => (await import('./commands/webhooks.command.js')).webhooksAddCommand,
  },
  'webhooks list': {
    summary: 'List webhook endpoints',
    load: async () => (await import('./commands/webhooks.command.js')).webhooksListCommand,
  },
  'webhooks remove': {
    summary: 'Delete a webhook endpoint and its delivery log',
    load: async () => (await import('./commands/webhooks.command.js')).webhooksRemoveCommand,
  },
  'webhooks test': {
    summary: 'Queue a webhook.test event for an endpoint (a running server delivers it)',
    load: async () => (await import('./commands/webhooks.command.js')).webhooksTestCommand,
  },
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
  const command = await (COMMANDS[name] as { load: () => Promise<Command> }).load()
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
sizeThreadPool()
const exitCode = await runCli(process.argv.slice(2))
if (exitCode !== 0) process.exit(exitCode)
