import { type DoctorResult, runDoctor } from '../../services/doctor.service.js'
import type { Command } from '../command.js'

const STATUS = { ok: 'ok', fail: 'FAIL', skip: 'skip' } as const
const NAME_WIDTH = 12

/** `ok    database    PostgreSQL 16.4 at 127.0.0.1:5432/kitsune (4 ms)`; extra problems indented below. */
export function formatDoctorLine(result: DoctorResult): string {
  const [first, ...more] = result.detail.split('\n')
  const head = `${STATUS[result.status].padEnd(6)}${result.name.padEnd(NAME_WIDTH)}${first}`
  return [head, ...more.map((line) => `${' '.repeat(6 + NAME_WIDTH)}${line}`)].join('\n')
}

export const doctorCommand: Command = {
  summary: 'Check configuration, database, migrations, keys, audit head, Redis, SMTP and clock',
  usage: '[--json]',
  help: `Reads the same configuration as the service and checks, in order: config, database,
migrations, keys (SECRET_KEY opens the signing keys and TOTP secrets), audit head, redis, smtp
(EHLO only: never signs in or sends) and clock (skew against the database). One line per check:
ok, FAIL, or skip (not configured, or it needs a check that failed). Each check gives up after
about 3 seconds; a failure does not stop the checks after it. Prints no secret.
  --json   print one JSON object instead: {"ok": true|false, "checks": [{name, status, detail, ms}]}
Exit codes: 0 nothing failed, 1 a check failed.
`,
  options: { json: { type: 'boolean' } },
  async run({ values }) {
    const json = values.json === true
    const results = await runDoctor({
      report: json ? undefined : (result) => process.stdout.write(`${formatDoctorLine(result)}\n`),
    })
    const healthy = results.every((result) => result.status !== 'fail')
    if (json) process.stdout.write(`${JSON.stringify({ ok: healthy, checks: results })}\n`)
    return healthy ? 0 : 1
  },
}
