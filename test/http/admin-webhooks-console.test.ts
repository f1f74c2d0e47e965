import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVENT_TYPES } from '../../src/events/catalogue.js'
import type { Resolver } from '../../src/events/webhook-target.js'
import type { Principal } from '../../src/services/request-context.js'
import { CONSOLE_SCRIPT } from '../../src/web/assets/assets.js'
import { PAGE_CSP, pageCspWithScripts } from '../../src/web/csp.js'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { registerUser } from '../helpers/factories.js'
import { hiddenField, type PageClient, pageClient } from '../helpers/page-client.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'hooks-console-admin@example.com', password: 'console admin password 1234' }
const CTX = { ip: '127.0.0.1', userAgent: 'test', requestId: 'test' }
const SECRET = /^whsec_[A-Za-z0-9+/]{43}=$/
const SECRET_FIELD = /id="webhook_secret" type="text" readonly value="([^"]+)"/

/** The test's DNS: `*.internal.example` is private, every other name public (no real lookup). */
const resolve: Resolver = async (host) =>
  host.endsWith('.internal.example')
    ? [{ address: '10.1.2.3', family: 4 }]
    : [{ address: '203.0.113.7', family: 4 }]

describe.each(testTargets())('admin console webhooks ($name)', (target) => {
  let t: TestApp
  let adminId: string
  let admin: PageClient

  const signedIn = async (who: { email: string; password: string }) => {
    const browser = pageClient(t)
    const form = await browser.get('/ui/sign-in')
    const response = await browser.post('/ui/sign-in', {
      csrf: hiddenField(form.body, 'csrf') ?? '',
      email: who.email,
      password: who.password,
    })
    expect(response.statusCode).toBe(303)
    return browser
  }
  const submit = async (browser: PageClient, url: string, fields: Record<string, string> = {}) => {
    const page = await browser.get('/ui/admin')
    const csrf = hiddenField(page.body, 'csrf') ?? browser.cookie('kitsune-csrf') ?? ''
    return browser.post(url, { csrf, ...fields })
  }
  const adminPrincipal = (): Principal => ({
    userId: adminId,
    sessionId: '',
    roles: ['admin'],
    tokenExpiresAt: 0,
  })
  const auditRows = (action: string, targetId: string) =>
    t.kitsune.services.audit.list({ action, target_id: targetId, limit: 20 })
  const endpointCount = async () =>
    Number(
      (
        await t.kitsune.database.db
          .selectFrom('webhook_endpoints')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  /** A browser holding a custom role with exactly `permissions`. */
  const holding = async (role: string, permissions: string[]) => {
    await t.kitsune.services.rbac.create(adminPrincipal(), { name: role, permissions }, CTX)
    const user = await registerUser(t)
    await t.kitsune.services.userAdmin.setRoles(adminPrincipal(), user.id, [role, 'user'], CTX)
    return signedIn(user)
  }
  const createThroughService = (url: string, events = ['user.created']) =>
    t.kitsune.services.webhooks.create(adminId, { url, events }, CTX)

  beforeAll(async () => {
    t = await buildTestApp({
      target,
      env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password },
      // Deliveries stay queued: the test reads and changes them itself.
      kitsune: { runJobs: false, webhooks: { resolve, cacheTtlMs: 0 } },
    })
    const found = await t.kitsune.services.userAdmin.list({ q: ADMIN.email })
    adminId = found.items[0]?.id as string
    admin = await signedIn(ADMIN)
  })
  afterAll(async () => t?.close())

  it('creates an endpoint through the form and shows its secret once, with the copy button', async () => {
    const form = await admin.get('/ui/admin/webhooks/new')
    expect(form.statusCode).toBe(200)
    for (const type of EVENT_TYPES) expect(form.body).toContain(`name="event.${type}"`)
    expect(form.body).toContain('name="all_events"')

    const created = await submit(admin, '/ui/admin/webhooks/new', {
      url: 'https://hooks.example.com/kitsune',
      'event.user.deleted': 'on',
      'event.user.created': 'on',
      enabled: 'on',
    })
    expect(created.statusCode).toBe(201)
    const secret = created.body.match(SECRET_FIELD)?.[1] as string
    expect(secret).toMatch(SECRET)
    expect(created.body).toMatch(
      /<button type="button" class="button secondary copy-button" data-copy-target="webhook_secret"[^>]* hidden>/,
    )
    expect(created.body).toContain(`<script src="${CONSOLE_SCRIPT.path}" defer></script>`)
    expect(created.body.match(/<script/g)).toHaveLength(1)
    expect(created.body).not.toMatch(/\son[a-z]+=/i)
    expect(created.body).not.toMatch(/\sstyle=/i)
    expect(created.headers['content-security-policy']).toBe(pageCspWithScripts(PAGE_CSP))

    const id = created.body.match(/href="\/ui\/admin\/webhooks\/([0-9a-f-]{36})"/)?.[1] as string
    expect(await t.kitsune.services.webhooks.get(id)).toMatchObject({
      url: 'https://hooks.example.com/kitsune',
      events: ['user.created', 'user.deleted'],
      enabled: true,
      created_by: adminId,
    })
    expect(await auditRows('webhook.created', id)).toHaveLength(1)

    // Never again: neither the list nor the detail page carries it.
    for (const path of ['/ui/admin/webhooks', `/ui/admin/webhooks/${id}`]) {
      const page = await admin.get(path)
      expect(page.statusCode, path).toBe(200)
      expect(page.body, path).toContain('https://hooks.example.com/kitsune')
      expect(page.body, path).not.toContain(secret)
      expect(page.body, path).not.toContain(secret.slice(6, 30))
    }
  })

  it('"all events" subscribes to every event', async () => {
    const created = await submit(admin, '/ui/admin/webhooks/new', {
      url: 'https://all.example.com/hook',
      all_events: 'on',
      'event.user.created': 'on',
    })
    expect(created.statusCode).toBe(201)
    const id = created.body.match(/href="\/ui\/admin\/webhooks\/([0-9a-f-]{36})"/)?.[1] as string
    expect(await t.kitsune.services.webhooks.get(id)).toMatchObject({ events: ['*'], enabled: false })
    const list = await admin.get('/ui/admin/webhooks')
    expect(list.body).toContain('All events')
  })

  it('shows the field errors of a refused form (422, never a 500) and creates nothing', async () => {
    const before = await endpointCount()
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ url: '', 'event.user.created': 'on' }, 'url', /absolute URL/],
      [{ url: 'ftp://files.example.com/x', 'event.user.created': 'on' }, 'url', /http or https/],
      [{ url: 'http://127.0.0.1:8080/hook', 'event.user.created': 'on' }, 'url', /127\.0\.0\.1/],
      [{ url: 'https://db.internal.example/hook', 'event.user.created': 'on' }, 'url', /10\.1\.2\.3/],
      [{ url: 'https://ok.example.com/hook' }, 'events', /at least one event/],
    ]
    for (const [fields, field, message] of cases) {
      const response = await submit(admin, '/ui/admin/webhooks/new', { enabled: 'on', ...fields })
      const label = JSON.stringify(fields)
      expect(response.statusCode, label).toBe(422)
      expect(response.headers['content-security-policy'], label).toBe(PAGE_CSP)
      expect(response.body, label).toContain('class="error-summary"')
      expect(response.body, label).toContain(`href="#${field}"`)
      expect(response.body, label).toContain(`id="${field}-error"`)
      expect(response.body.match(new RegExp(`id="${field}-error">([^<]*)<`))?.[1], label).toMatch(message)
      // What was typed stays.
      if (fields.url) expect(response.body, label).toContain(`value="${fields.url}"`)
      expect(response.body, label).not.toMatch(/<script/i)
    }
    // A checked event stays checked.
    const kept = await submit(admin, '/ui/admin/webhooks/new', { url: 'nope', 'event.user.deleted': 'on' })
    expect(kept.body).toMatch(/id="cb-event-user-deleted" name="event\.user\.deleted" value="on" checked/)
    expect(await endpointCount()).toBe(before)
  })

  it('lists endpoints with their events, state, reason and failing since', async () => {
    const failing = await createThroughService('https://failing.example.com/hook', ['user.login_failed'])
    const since = new Date('2030-01-02T03:04:00Z')
    await t.kitsune.database.db
      .updateTable('webhook_endpoints')
      .set({
        enabled: false,
        failing_since: since,
        disabled_reason: 'deliveries failed continuously for 3 days',
      })
      .where('id', '=', failing.id)
      .execute()
    const paused = await createThroughService('https://paused.example.com/hook')
    await t.kitsune.services.webhooks.update(adminId, paused.id, { enabled: false }, CTX)

    const list = await admin.get('/ui/admin/webhooks')
    expect(list.statusCode).toBe(200)
    expect(list.headers['content-security-policy']).toBe(PAGE_CSP)
    expect(list.body).toContain('href="/ui/admin/webhooks" aria-current="page"')
    const row = (url: string) =>
      list.body.match(new RegExp(`<tr><td class="wrap"><a[^>]*>${url}</a>.*?</tr>`))?.[0]
    expect(row('https://failing.example.com/hook')).toContain('user.login_failed')
    expect(row('https://failing.example.com/hook')).toContain(
      'Disabled: its deliveries failed continuously for 3 days',
    )
    expect(row('https://failing.example.com/hook')).toContain('2030-01-02 03:04 UTC')
    expect(row('https://paused.example.com/hook')).toContain('>Disabled<')
    expect(row('https://hooks.example.com/kitsune')).toContain('>Enabled<')

    const spanish = await admin.get('/ui/admin/webhooks', { 'accept-language': 'es' })
    expect(spanish.body).toContain('Desactivado: sus entregas fallaron sin interrupción durante 3 días')
    expect(spanish.body).toContain('Añadir un endpoint')
  })

  it('edits an endpoint, and shows the errors of a refused edit', async () => {
    const endpoint = await createThroughService('https://edit.example.com/hook')
    const self = `/ui/admin/webhooks/${endpoint.id}`
    const detail = await admin.get(self)
    expect(detail.statusCode).toBe(200)
    expect(detail.body).toMatch(/id="cb-event-user-created" name="event\.user\.created" value="on" checked/)

    const edited = await submit(admin, self, {
      url: 'https://edit.example.com/v2',
      'event.user.deleted': 'on',
      'event.role.changed': 'on',
    })
    expect(edited.statusCode).toBe(303)
    expect(edited.headers.location).toBe(`${self}?done=webhook_updated`)
    expect(await t.kitsune.services.webhooks.get(endpoint.id)).toMatchObject({
      url: 'https://edit.example.com/v2',
      events: ['role.changed', 'user.deleted'],
      enabled: false,
    })
    const after = await admin.get(String(edited.headers.location))
    expect(after.body).toContain('The webhook’s settings were saved.')
    expect(await auditRows('webhook.updated', endpoint.id)).toHaveLength(1)

    const refused = await submit(admin, self, { url: 'http://localhost/hook', 'event.user.deleted': 'on' })
    expect(refused.statusCode).toBe(422)
    expect(refused.body).toContain('id="url-error"')
    expect(refused.body).toContain('value="http://localhost/hook"')
    const none = await submit(admin, self, { url: 'https://edit.example.com/v3', enabled: 'on' })
    expect(none.statusCode).toBe(422)
    expect(none.body).toContain('id="events-error"')
    expect((await t.kitsune.services.webhooks.get(endpoint.id)).url).toBe('https://edit.example.com/v2')
  })

  it('sends a test event, shows the delivery log newest first, and redelivers', async () => {
    const endpoint = await createThroughService('https://log.example.com/hook')
    const self = `/ui/admin/webhooks/${endpoint.id}`
    const empty = await admin.get(self)
    expect(empty.body).toContain('Nothing has been sent to this endpoint yet.')

    const sent = await submit(admin, `${self}/test`)
    expect(sent.statusCode).toBe(303)
    expect(sent.headers.location).toBe(`${self}?done=webhook_test_sent`)
    const first = (await t.kitsune.services.webhooks.listDeliveries(endpoint.id)).items
    expect(first).toHaveLength(1)
    expect(first[0]).toMatchObject({ event_type: 'webhook.test', state: 'queued' })
    const failedId = first[0]?.id as string
    await t.kitsune.database.db
      .updateTable('webhook_deliveries')
      .set({
        state: 'dead',
        attempts: 8,
        last_status: 503,
        last_response_ms: 412,
        last_error: 'answered 503',
        created_at: new Date('2020-01-01T00:00:00Z'),
      })
      .where('id', '=', failedId)
      .execute()
    await submit(admin, `${self}/test`)

    const log = await admin.get(String(sent.headers.location))
    expect(log.statusCode).toBe(200)
    expect(log.body).toContain('A test event (webhook.test) is queued')
    const rows = [...log.body.matchAll(/<tr><td>[^<]*UTC<\/td>.*?<\/tr>/g)].map((m) => m[0])
    expect(rows).toHaveLength(2)
    // Newest first: the fresh test, then the dead one, moved back to 2020.
    expect(rows[0]).toContain('Queued')
    expect(rows[1]).toContain('2020-01-01 00:00 UTC')
    expect(rows[1]).toContain('<code>webhook.test</code>')
    expect(rows[1]).toContain('Given up')
    expect(rows[1]).toContain('<td>8</td>')
    expect(rows[1]).toContain('<td>503</td>')
    expect(rows[1]).toContain('412 ms')
    expect(rows[1]).toContain('answered 503')
    expect(rows[1]).toContain(`action="${self}/deliveries/${failedId}/redeliver"`)

    const redelivered = await submit(admin, `${self}/deliveries/${failedId}/redeliver`)
    expect(redelivered.statusCode).toBe(303)
    expect(redelivered.headers.location).toBe(`${self}?done=webhook_redelivered`)
    expect(await t.kitsune.services.webhooks.getDelivery(endpoint.id, failedId)).toMatchObject({
      state: 'queued',
    })
    const unknown = await submit(admin, `${self}/deliveries/00000000-0000-7000-8000-000000000000/redeliver`)
    expect(unknown.headers.location).toBe(`${self}?failed=not_found`)
    const notUuid = await submit(admin, `${self}/deliveries/nope/redeliver`)
    expect(notUuid.statusCode).toBe(404)
  })

  it('deletes an endpoint after a confirmation', async () => {
    const endpoint = await createThroughService('https://gone.example.com/hook')
    const self = `/ui/admin/webhooks/${endpoint.id}`
    const confirm = await admin.get(`${self}/delete`)
    expect(confirm.statusCode).toBe(200)
    expect(confirm.body).toContain('https://gone.example.com/hook')
    expect(confirm.body).toContain(`action="${self}/delete"`)
    expect(await endpointCount()).toBeGreaterThan(0)
    const deleted = await submit(admin, `${self}/delete`)
    expect(deleted.statusCode).toBe(303)
    expect(deleted.headers.location).toBe('/ui/admin/webhooks?done=webhook_deleted')
    await expect(t.kitsune.services.webhooks.get(endpoint.id)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await auditRows('webhook.deleted', endpoint.id)).toHaveLength(1)
    expect((await admin.get(self)).statusCode).toBe(404)
    expect((await admin.get('/ui/admin/webhooks/not-a-uuid')).statusCode).toBe(404)
    expect((await submit(admin, `${self}/test`)).statusCode).toBe(404)
  })

  it('loads the copy script only on the secret page', async () => {
    const endpoint = await createThroughService('https://csp.example.com/hook')
    for (const path of [
      '/ui/admin/webhooks',
      '/ui/admin/webhooks/new',
      `/ui/admin/webhooks/${endpoint.id}`,
      `/ui/admin/webhooks/${endpoint.id}/delete`,
    ]) {
      const response = await admin.get(path)
      expect(response.statusCode, path).toBe(200)
      expect(response.headers['content-security-policy'], path).toBe(PAGE_CSP)
      expect(response.body, path).not.toMatch(/<script/i)
      expect(response.body, path).not.toMatch(/\s(on[a-z]+|style)=/i)
    }
  })

  it('gives webhooks:read the screens without write buttons, and refuses its forged posts with 403', async () => {
    const endpoint = await createThroughService('https://readonly.example.com/hook', ['user.deleted'])
    await t.kitsune.services.webhooks.sendTest(adminId, endpoint.id)
    const delivery = (await t.kitsune.services.webhooks.listDeliveries(endpoint.id)).items[0]?.id as string
    const reader = await holding('hook-readers', ['webhooks:read'])
    const overview = await reader.get('/ui/admin')
    expect(overview.body).toContain('href="/ui/admin/webhooks"')
    const list = await reader.get('/ui/admin/webhooks')
    expect(list.statusCode).toBe(200)
    expect(list.body).toContain('https://readonly.example.com/hook')
    expect(list.body).not.toContain('/ui/admin/webhooks/new')
    const detail = await reader.get(`/ui/admin/webhooks/${endpoint.id}`)
    expect(detail.statusCode).toBe(200)
    expect(detail.body).toContain('<code>webhook.test</code>')
    expect(detail.body).not.toMatch(/<form method="post"(?! action="\/ui\/sign-out")/)
    for (const path of ['/ui/admin/webhooks/new', `/ui/admin/webhooks/${endpoint.id}/delete`])
      expect((await reader.get(path)).statusCode, path).toBe(403)
    const forged: Array<[string, Record<string, string>]> = [
      ['/ui/admin/webhooks/new', { url: 'https://sneaky.example.com/', all_events: 'on', enabled: 'on' }],
      [`/ui/admin/webhooks/${endpoint.id}`, { url: 'https://sneaky.example.com/', all_events: 'on' }],
      [`/ui/admin/webhooks/${endpoint.id}/delete`, {}],
      [`/ui/admin/webhooks/${endpoint.id}/test`, {}],
      [`/ui/admin/webhooks/${endpoint.id}/deliveries/${delivery}/redeliver`, {}],
    ]
    const deliveries = async () =>
      (await t.kitsune.services.webhooks.listDeliveries(endpoint.id)).items.length
    const before = await deliveries()
    for (const [path, fields] of forged)
      expect((await submit(reader, path, fields)).statusCode, path).toBe(403)
    expect(await t.kitsune.services.webhooks.get(endpoint.id)).toMatchObject({
      url: 'https://readonly.example.com/hook',
    })
    expect(await deliveries()).toBe(before)

    const other = await holding('hook-outsiders', ['users:read'])
    expect((await other.get('/ui/admin')).body).not.toContain('href="/ui/admin/webhooks"')
    for (const path of ['/ui/admin/webhooks', `/ui/admin/webhooks/${endpoint.id}`])
      expect((await other.get(path)).statusCode, path).toBe(403)
    const nobody = await signedIn(await registerUser(t))
    expect((await nobody.get('/ui/admin/webhooks')).statusCode).toBe(403)
  })
})
