import type { Migration } from 'kysely'
import * as m0001 from './0001-users-roles-keys.js'
import * as m0002 from './0002-sessions.js'
import * as m0003 from './0003-rbac-audit.js'
import * as m0004 from './0004-email-tokens.js'
import * as m0005 from './0005-mfa.js'
import * as m0006 from './0006-rotate-refresh-function.js'
import * as m0007 from './0007-audit-head.js'
import * as m0008 from './0008-user-search.js'
import * as m0010 from './0010-oidc-clients.js'
import * as m0011 from './0011-oidc-provider.js'
import * as m0012 from './0012-email-change.js'
import * as m0013 from './0013-passkeys.js'
import * as m0014 from './0014-jobs.js'
import * as m0015 from './0015-webhooks.js'

/** Static list so the compiled build needs no directory scan. Append only. */
export const migrations: Record<string, Migration> = {
  '0001-users-roles-keys': m0001,
  '0002-sessions': m0002,
  '0003-rbac-audit': m0003,
  '0004-email-tokens': m0004,
  '0005-mfa': m0005,
  '0006-rotate-refresh-function': m0006,
  '0007-audit-head': m0007,
  '0008-user-search': m0008,
  '0010-oidc-clients': m0010,
  '0011-oidc-provider': m0011,
  '0012-email-change': m0012,
  '0013-passkeys': m0013,
  '0014-jobs': m0014,
  '0015-webhooks': m0015,
}
