import type { FastifyInstance } from 'fastify'
import type { AuditLogRow } from '../../../db/schema.js'
import { createAdminOverviewService } from '../../../services/admin-overview.service.js'
import { AUDIT_ACTIONS } from '../../../services/audit.service.js'
import { pageQuerySchema } from '../../form-schema.js'
import { Notice } from '../../layout/shell.js'
import type { PageDeps } from '../../page-context.js'
import { sendPage } from '../../render.js'
import {
  ADMIN,
  type AdminAccess,
  type AdminRequest,
  AdminShell,
  Pager,
  Select,
  Table,
  UUID,
  when,
} from './admin-kit.js'

const AUDIT = `${ADMIN}/audit`
const PAGE_SIZE = 50
const SEQ = /^\d{1,19}$/
const TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/

type Query = Record<string, string | undefined>

const encodeCursor = (seq: string) => Buffer.from(seq).toString('base64url')
const decodeCursor = (cursor: string | undefined) => {
  if (!cursor || cursor === '-') return undefined
  const seq = Buffer.from(cursor, 'base64url').toString()
  return SEQ.test(seq) ? seq : undefined
}

/** A form's date or date and time, read as UTC; undefined when empty, null when it is not one. */
function timeOf(value: string | undefined): Date | undefined | null {
  if (!value) return undefined
  if (!TIME.test(value)) return null
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : `${value}Z`)
  return Number.isNaN(date.getTime()) ? null : date
}

/** A user named by their address when the account still exists, linked for those who may read users. */
function UserName(props: { admin: AdminRequest; id: string; emails: ReadonlyMap<string, string> }) {
  const { admin, id } = props
  const email = props.emails.get(id)
  const label = email ?? <code>{id}</code>
  return admin.can('users:read') && email ? (
    <a href={admin.page.href(`${ADMIN}/users/${id}`)}>{label}</a>
  ) : (
    label
  )
}

function ActorLink(props: { admin: AdminRequest; id: string | null; emails: ReadonlyMap<string, string> }) {
  const { admin, id } = props
  if (!id) return <span>{admin.page.t('admin.audit.system')}</span>
  return <UserName admin={admin} id={id} emails={props.emails} />
}

function TargetText(props: { admin: AdminRequest; row: AuditLogRow; emails: ReadonlyMap<string, string> }) {
  const { row } = props
  if (!row.target_id) return <span>—</span>
  return (
    <span>
      {row.target_type ? `${row.target_type}: ` : ''}
      {row.target_type === 'user' ? (
        <UserName admin={props.admin} id={row.target_id} emails={props.emails} />
      ) : (
        <code>{row.target_id}</code>
      )}
    </span>
  )
}

const userIdsOf = (rows: readonly AuditLogRow[]) =>
  rows.flatMap((row) => [row.actor_id ?? '', row.target_type === 'user' ? (row.target_id ?? '') : ''])

/** The admin console's audit log: filters, entries, one entry's detail, and the chain's check. */
export function auditPages(scope: FastifyInstance, deps: PageDeps, access: AdminAccess): void {
  const { audit, userAdmin } = deps.services
  const reads = createAdminOverviewService({ db: deps.kitsune.database.db, clock: deps.kitsune.clock })

  scope.get<{ Querystring: Query }>(
    '/admin/audit',
    {
      schema: {
        hide: true,
        querystring: pageQuerySchema({
          actor: 1024,
          action: 64,
          target: 200,
          from: 32,
          to: 32,
          cursor: 64,
          back: 1400,
        }),
      },
    },
    async (request, reply) => {
      const admin = await access(request, reply, 'audit:read')
      if (!admin) return reply
      const { page } = admin
      const { actor, action, target, from, to } = request.query
      const problems: string[] = []
      const fromDate = timeOf(from)
      const toDate = timeOf(to)
      if (fromDate === null) problems.push(page.t('admin.audit.error_from'))
      if (toDate === null) problems.push(page.t('admin.audit.error_to'))
      const knownAction = action && (AUDIT_ACTIONS as readonly string[]).includes(action) ? action : undefined
      // An actor is a user id or an e-mail address (looked up exactly).
      let actorId: string | undefined
      let unknownActor = false
      const actorText = actor?.trim()
      if (actorText) {
        if (UUID.test(actorText.toLowerCase())) actorId = actorText.toLowerCase()
        else {
          const match = (await userAdmin.list({ q: actorText, limit: 20 })).items.find(
            (user) => user.email.toLowerCase() === actorText.toLowerCase(),
          )
          if (match) actorId = match.id
          else unknownActor = true
        }
      }
      const cursor = decodeCursor(request.query.cursor)
      const rows =
        problems.length > 0 || unknownActor
          ? []
          : await audit.list({
              actor_id: actorId,
              action: knownAction,
              target_id: target?.trim() || undefined,
              from: fromDate ?? undefined,
              to: toDate ?? undefined,
              before_seq: cursor,
              limit: PAGE_SIZE + 1,
            })
      const more = rows.length > PAGE_SIZE
      const items = more ? rows.slice(0, PAGE_SIZE) : rows
      const last = items[items.length - 1]
      const emails = await reads.emailsOf(userIdsOf(items))
      const filtered = Boolean(actor || action || target || from || to)
      return sendPage(
        reply,
        problems.length > 0 ? 422 : 200,
        <AdminShell
          admin={admin}
          title={page.t('admin.audit.title')}
          section={AUDIT}
          hasErrors={problems.length > 0}
        >
          <p>
            <a class="button inline secondary" href={page.href(`${AUDIT}/verify`)}>
              {page.t('admin.audit.verify')}
            </a>
          </p>
          <form method="get" action={AUDIT} class="filters" aria-label={page.t('admin.audit.filters')}>
            {page.locale !== 'en' && <input type="hidden" name="ui_locales" value={page.locale} />}
            <div class="field">
              <label for="actor">{page.t('admin.audit.actor_label')}</label>
              <span class="hint" id="actor-hint">
                {page.t('admin.audit.actor_hint')}
              </span>
              <input
                id="actor"
                name="actor"
                type="text"
                value={actor ?? ''}
                aria-describedby="actor-hint"
                autocomplete="off"
              />
            </div>
            <Select
              name="action"
              label={page.t('admin.audit.action_label')}
              value={knownAction}
              options={[
                { value: '', label: page.t('admin.audit.any_action') },
                ...AUDIT_ACTIONS.map((a) => ({ value: a, label: a })),
              ]}
            />
            <div class="field">
              <label for="target">{page.t('admin.audit.target_label')}</label>
              <input id="target" name="target" type="text" value={target ?? ''} autocomplete="off" />
            </div>
            <div class="field">
              <label for="from">{page.t('admin.audit.from_label')}</label>
              <span class="hint" id="from-hint">
                {page.t('admin.audit.time_hint')}
              </span>
              <input
                id="from"
                name="from"
                type="datetime-local"
                value={from ?? ''}
                aria-describedby="from-hint"
                aria-invalid={fromDate === null ? 'true' : undefined}
              />
            </div>
            <div class="field">
              <label for="to">{page.t('admin.audit.to_label')}</label>
              <input
                id="to"
                name="to"
                type="datetime-local"
                value={to ?? ''}
                aria-describedby="from-hint"
                aria-invalid={toDate === null ? 'true' : undefined}
              />
            </div>
            <button class="button inline" type="submit">
              {page.t('admin.audit.apply')}
            </button>
          </form>
          {problems.length > 0 && (
            <div class="error-summary" role="alert">
              <ul>
                {problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          )}
          {unknownActor && <p>{page.t('admin.audit.unknown_actor')}</p>}
          <Table
            caption={page.t(filtered ? 'admin.audit.caption_filtered' : 'admin.audit.caption')}
            headers={[
              page.t('admin.audit.col_entry'),
              page.t('admin.audit.col_time'),
              page.t('admin.audit.col_action'),
              page.t('admin.audit.col_actor'),
              page.t('admin.audit.col_target'),
            ]}
            rows={items.length}
            empty={page.t('admin.audit.none')}
          >
            {items.map((row) => (
              <tr key={row.id}>
                <td>
                  <a href={page.href(`${AUDIT}/${row.seq}`)}>
                    {page.t('admin.audit.entry_link', { seq: row.seq })}
                  </a>
                </td>
                <td>{when(row.at)}</td>
                <td>
                  <code>{row.action}</code>
                </td>
                <td class="wrap">
                  <ActorLink admin={admin} id={row.actor_id} emails={emails} />
                </td>
                <td class="wrap">
                  <TargetText admin={admin} row={row} emails={emails} />
                </td>
              </tr>
            ))}
          </Table>
          <Pager
            page={page}
            path={AUDIT}
            params={{ actor, action: knownAction, target, from, to }}
            cursor={request.query.cursor && request.query.cursor !== '-' ? request.query.cursor : undefined}
            back={request.query.back}
            next={more && last ? encodeCursor(String(last.seq)) : null}
          />
        </AdminShell>,
      )
    },
  )

  scope.get(
    '/admin/audit/verify',
    { schema: { hide: true, querystring: pageQuerySchema() } },
    async (request, reply) => {
      const admin = await access(request, reply, 'audit:read')
      if (!admin) return reply
      const { page } = admin
      const [result, newest] = await Promise.all([audit.verify(), audit.list({ limit: 1 })])
      const newestSeq = newest[0]?.seq
      return sendPage(
        reply,
        200,
        <AdminShell admin={admin} title={page.t('admin.audit.verify_title')} section={AUDIT}>
          <div role="status">
            {result.ok ? (
              <Notice tone="success">
                <p>
                  {newestSeq
                    ? page.t('admin.audit.verify_ok', { checked: result.checked, seq: newestSeq })
                    : page.t('admin.audit.verify_empty')}
                </p>
              </Notice>
            ) : (
              <Notice tone="warning">
                <p>
                  {page.t('admin.audit.verify_broken', {
                    position: result.checked,
                    id: result.first_bad_id ?? '?',
                  })}
                </p>
              </Notice>
            )}
          </div>
          <p>{page.t('admin.audit.verify_explain')}</p>
          <p>
            <a href={page.href(AUDIT)}>{page.t('admin.audit.back')}</a>
          </p>
        </AdminShell>,
      )
    },
  )

  scope.get<{ Params: { seq: string } }>(
    '/admin/audit/:seq',
    {
      schema: {
        hide: true,
        params: { type: 'object', properties: { seq: { type: 'string', maxLength: 19 } }, required: ['seq'] },
        querystring: pageQuerySchema(),
      },
    },
    async (request, reply) => {
      const admin = await access(request, reply, 'audit:read')
      if (!admin) return reply
      const { page } = admin
      const seq = request.params.seq
      if (!SEQ.test(seq)) return reply.callNotFound()
      const [row] = await audit.list({ before_seq: String(BigInt(seq) + 1n), limit: 1 })
      if (!row || String(row.seq) !== String(BigInt(seq))) return reply.callNotFound()
      const emails = await reads.emailsOf(userIdsOf([row]))
      return sendPage(
        reply,
        200,
        <AdminShell admin={admin} title={page.t('admin.audit.entry_title', { seq: row.seq })} section={AUDIT}>
          <p>
            <a href={page.href(AUDIT)}>{page.t('admin.audit.back')}</a>
          </p>
          <dl class="details">
            <dt>{page.t('admin.audit.col_time')}</dt>
            <dd>{when(row.at)}</dd>
            <dt>{page.t('admin.audit.col_action')}</dt>
            <dd>
              <code>{row.action}</code>
            </dd>
            <dt>{page.t('admin.audit.col_actor')}</dt>
            <dd>
              <ActorLink admin={admin} id={row.actor_id} emails={emails} />
            </dd>
            <dt>{page.t('admin.audit.col_target')}</dt>
            <dd>
              <TargetText admin={admin} row={row} emails={emails} />
            </dd>
            <dt>{page.t('admin.audit.ip')}</dt>
            <dd>{row.ip ?? '—'}</dd>
            <dt>{page.t('admin.audit.user_agent')}</dt>
            <dd>{row.user_agent ?? '—'}</dd>
            <dt>{page.t('admin.audit.request_id')}</dt>
            <dd>
              <code>{row.request_id ?? '—'}</code>
            </dd>
            <dt>{page.t('admin.audit.entry_id')}</dt>
            <dd>
              <code>{row.id}</code>
            </dd>
          </dl>
          <h2>{page.t('admin.audit.metadata')}</h2>
          <pre class="metadata">{JSON.stringify(row.metadata, null, 2)}</pre>
          {row.target_id && (
            <p>
              <a href={page.href(`${AUDIT}?target=${encodeURIComponent(row.target_id)}`)}>
                {page.t('admin.audit.same_target')}
              </a>
            </p>
          )}
        </AdminShell>,
      )
    },
  )
}
