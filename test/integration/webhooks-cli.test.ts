import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { createDatabase, type DatabaseHandle } from '../../src/db/database.js'
import {
  cliEnv,
  cliTargets,
  freePort,
  killAllCli,
  runCli,
  startCli,
  waitUntilReady,
} from '../helpers/cli-process.js'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'

const COMMANDS = ['webhooks add', 'webhooks list', 'webhooks remove', 'webhooks test']
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/
const UNKNOWN_ID = '00000000-0000-7000-8000-000000000000'

afterAll(() => killAllCli())

/** `key: value` lines of a command's output. */
const field = (stdout: string, key: string) => stdout.match(new RegExp(`^${key}: (\\S+)$`, 'm'))?.[1]

describe('kitsune webhooks usage', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-webhooks-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('lists every webhooks command in the usage', async () => {
    const result = await runCli(['--help'], cliEnv(dir))
    expect(result.code).toBe(0)
    for (const command of COMMANDS) expect(result.stdout).toContain(`kitsune ${command} `)
  })

  it.each(COMMANDS)('prints the options of "%s --help" and exits 0', async (command) => {
    const result = await runCli([...command.split(' '), '--help'], cliEnv(dir))
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`Usage: kitsune ${command}`)
  })

  it('documents the event types and --disabled in "webhooks add --help"', async () => {
    const result = await runCli(['webhooks', 'add', '--help'], cliEnv(dir))
    for (const text of ['--events', '--disabled', 'user.created', 'webhook.test', 'WEBHOOKS_ALLOW_PRIVATE'])
      expect(result.stdout).toContain(text)
  })
})

describe.each(cliTargets)('kitsune webhooks on $name', (target) => {
  let dir: string
  let env: Record<string, string>
  let drop: () => Promise<void>
  let receiver: WebhookReceiver

  /** Opens the database only between CLI runs: a PGlite directory belongs to one process at a time. */
  async function withDatabase<T>(work: (database: DatabaseHandle) => Promise<T>): Promise<T> {
    const database = await createDatabase(loadConfig(env).database, { info() {}, error() {} })
    try {
      return await work(database)
    } finally {
      await database.close()
    }
  }
  const endpointRow = (id: string) =>
    withDatabase(({ db }) =>
      db
        .selectFrom('webhook_endpoints')
        .select(['url', 'events', 'enabled', 'secret_enc', 'created_by'])
        .where('id', '=', id)
        .executeTakeFirst(),
    )
  const audited = (action: string, id: string) =>
    withDatabase(({ db }) =>
      db
        .selectFrom('audit_logs')
        .select(['actor_id', 'target_type', 'metadata'])
        .where('action', '=', action)
        .where('target_id', '=', id)
        .execute(),
    )

  beforeAll(async () => {
    receiver = await startWebhookReceiver()
    dir = mkdtempSync(join(tmpdir(), 'kitsune-cli-webhooks-'))
    const database = await target.provision(dir)
    drop = database.drop
    // The receiver listens on 127.0.0.1: allowed here; the refusal is checked with it off.
    env = cliEnv(dir, { DATABASE_URL: database.url, WEBHOOKS_ALLOW_PRIVATE: 'true' })
  })
  afterAll(async () => {
    killAllCli()
    await receiver?.close()
    await drop?.()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  let allId: string
  let allSecret: string
  let someId: string

  it('add registers an endpoint for every event, prints its id and secret once, audited with no actor', async () => {
    const result = await runCli(['webhooks', 'add', receiver.url], env)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    allId = field(result.stdout, 'id') as string
    allSecret = field(result.stdout, 'secret') as string
    expect(allId).toMatch(/^[0-9a-f-]{36}$/)
    expect(allSecret).toMatch(SECRET)
    expect(result.stdout).toContain('shown only now')
    const stored = await endpointRow(allId)
    expect(stored).toMatchObject({ url: receiver.url, events: ['*'], enabled: true, created_by: null })
    expect(stored?.secret_enc).not.toContain(allSecret.slice(6))
    const entries = await audited('webhook.created', allId)
    expect(entries).toHaveLength(1)
    expect(entries[0]).toMatchObject({ actor_id: null, target_type: 'webhook' })
    expect(JSON.stringify(entries)).not.toContain(allSecret.slice(6))
  })

  it('add --events a,b --disabled subscribes to those events only, disabled', async () => {
    const result = await runCli(
      [
        'webhooks',
        'add',
        'https://hooks.example.com/k',
        '--events',
        'user.deleted, user.created',
        '--disabled',
      ],
      env,
    )
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    someId = field(result.stdout, 'id') as string
    expect(await endpointRow(someId)).toMatchObject({
      events: ['user.created', 'user.deleted'],
      enabled: false,
    })
  })

  it('add refuses bad input: usage (2), and what the service refuses (1), with one line', async () => {
    const noUrl = await runCli(['webhooks', 'add'], env)
    expect(noUrl.code).toBe(2)
    expect(noUrl.stderr).toMatch(/^kitsune webhooks add: give exactly one URL\n$/)
    const unknownOption = await runCli(['webhooks', 'add', receiver.url, '--secret', 'x'], env)
    expect(unknownOption.code).toBe(2)
    const unknownEvent = await runCli(['webhooks', 'add', receiver.url, '--events', 'user.created,nope'], env)
    expect(unknownEvent.code).toBe(1)
    expect(unknownEvent.stderr).toContain('events unknown event type: nope')
    const notUrl = await runCli(['webhooks', 'add', 'not a url'], env)
    expect(notUrl.code).toBe(1)
    expect(notUrl.stderr).toContain('url is not an absolute URL')
    const privateTarget = await runCli(['webhooks', 'add', 'http://127.0.0.1:9/hook'], {
      ...env,
      WEBHOOKS_ALLOW_PRIVATE: 'false',
    })
    expect(privateTarget.code).toBe(1)
    expect(privateTarget.stderr).toContain('WEBHOOKS_ALLOW_PRIVATE')
    for (const result of [unknownEvent, notUrl, privateTarget]) {
      expect(result.stdout).toBe('')
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/)
    }
  }, 180_000)

  it('list prints every endpoint, one a line', async () => {
    const result = await runCli(['webhooks', 'list'], env)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines).toContain(`${allId}\t${receiver.url}\t*\tenabled\t-`)
    expect(lines).toContain(`${someId}\thttps://hooks.example.com/k\tuser.created,user.deleted\tdisabled\t-`)
  })

  it('test queues a webhook.test delivery, which a running server then delivers, signed', async () => {
    const result = await runCli(['webhooks', 'test', allId], env)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const deliveryId = field(result.stdout, 'delivery_id') as string
    expect(deliveryId).toMatch(/^[0-9a-f-]{36}$/)
    expect(field(result.stdout, 'state')).toBe('queued')
    const queued = await withDatabase(({ db }) =>
      db
        .selectFrom('webhook_deliveries')
        .select(['endpoint_id', 'event_type', 'state'])
        .where('id', '=', deliveryId)
        .executeTakeFirst(),
    )
    expect(queued).toEqual({ endpoint_id: allId, event_type: 'webhook.test', state: 'queued' })

    // Nothing was sent by the CLI itself; a server picks the job up.
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === deliveryId)).toHaveLength(0)
    const port = await freePort()
    const serve = startCli(['serve'], { ...env, HOST: '127.0.0.1', PORT: String(port) })
    try {
      await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, serve)
      const until = Date.now() + 60_000
      while (Date.now() < until && !receiver.received.some((r) => r.headers['webhook-id'] === deliveryId))
        await new Promise((resolve) => setTimeout(resolve, 200))
    } finally {
      serve.child.kill('SIGTERM')
      await serve.exited(60_000)
    }
    const delivered = receiver.received.find((r) => r.headers['webhook-id'] === deliveryId)
    expect(delivered, 'the server delivered the test event').toBeDefined()
    const body = receiver.verify(allSecret, delivered as (typeof receiver.received)[number]) as {
      type: string
      data: Record<string, unknown>
    }
    expect(body.type).toBe('webhook.test')
    expect(body.data).toMatchObject({ target_type: 'webhook', target_id: allId, actor_id: null })
  }, 180_000)

  it('test and remove answer 1 for an unknown endpoint and 2 for a malformed id', async () => {
    for (const command of ['test', 'remove']) {
      const unknown = await runCli(['webhooks', command, UNKNOWN_ID], env)
      expect(unknown.code, command).toBe(1)
      expect(unknown.stderr, command).toContain('not found')
      const malformed = await runCli(['webhooks', command, 'nope'], env)
      expect(malformed.code, command).toBe(2)
      const none = await runCli(['webhooks', command], env)
      expect(none.code, command).toBe(2)
    }
  }, 180_000)

  it('remove deletes an endpoint, audited; a second remove answers 1', async () => {
    const result = await runCli(['webhooks', 'remove', someId], env)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(`deleted webhook ${someId}\n`)
    expect(await endpointRow(someId)).toBeUndefined()
    expect(await audited('webhook.deleted', someId)).toHaveLength(1)
    const again = await runCli(['webhooks', 'remove', someId], env)
    expect(again.code).toBe(1)
    const list = await runCli(['webhooks', 'list'], env)
    expect(list.stdout).not.toContain(someId)
    expect(list.stdout).toContain(allId)
  }, 180_000)
})
