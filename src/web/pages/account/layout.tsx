import type { ComponentChildren } from 'preact'
import type { MessageKey } from '../../i18n/i18n.js'
import { BrandMark, Notice } from '../../layout/shell.js'
import type { PageContext } from '../../page-context.js'

export const ACCOUNT = '/ui/account'
export const PROFILE = '/ui/account/profile'
export const EMAIL = '/ui/account/email'
export const PASSWORD = '/ui/account/password'
export const SESSIONS = '/ui/account/sessions'
export const TWO_FACTOR = '/ui/account/two-factor'
export const PASSKEYS = '/ui/account/passkeys'
export const ACTIVITY = '/ui/account/activity'
export const DELETE = '/ui/account/delete'
export const DELETED = '/ui/account/deleted'

/** The console's sections, in the order the navigation and the overview list them. */
export const SECTIONS: ReadonlyArray<{ path: string; nav: MessageKey; about: MessageKey }> = [
  { path: PROFILE, nav: 'account.nav_profile', about: 'account.section_profile' },
  { path: EMAIL, nav: 'account.nav_email', about: 'account.section_email_change' },
  { path: PASSWORD, nav: 'account.nav_password', about: 'account.section_password' },
  { path: SESSIONS, nav: 'account.nav_sessions', about: 'account.section_sessions' },
  { path: TWO_FACTOR, nav: 'account.nav_two_factor', about: 'account.section_two_factor' },
  { path: PASSKEYS, nav: 'account.nav_passkeys', about: 'account.section_passkeys' },
  { path: ACTIVITY, nav: 'account.nav_activity', about: 'account.section_activity' },
  { path: DELETE, nav: 'account.nav_delete', about: 'account.section_delete' },
]

/**
 * The frame of a console page: the pages' head and header, the sections' navigation (the current
 * one marked with aria-current), and a wider card than the sign-in pages', for tables. A result
 * message (`done`) comes first, announced as a status.
 */
export function AccountShell(props: {
  page: PageContext
  title: string
  current: string
  hasErrors?: boolean
  done?: string
  warning?: string
  /** Kitsune's own scripts this page loads (its CSP must allow them: csp.ts, allowScripts). */
  scripts?: readonly string[]
  children: ComponentChildren
}) {
  const { page, title } = props
  const documentTitle = `${props.hasErrors ? `${page.t('layout.error_prefix')}: ` : ''}${title} – ${page.brand.name}`
  const links = [{ path: ACCOUNT, nav: 'account.nav_overview' as MessageKey }, ...SECTIONS]
  return (
    <html lang={page.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{documentTitle}</title>
        <link rel="stylesheet" href={page.brand.stylesheet.path} />
        {props.scripts?.map((src) => (
          <script key={src} src={src} defer />
        ))}
      </head>
      <body>
        <a class="skip-link" href="#main">
          {page.t('layout.skip_link')}
        </a>
        <header class="site-header">
          <span class="brand">
            {page.brand.logoUrl ? <img class="brand-logo" src={page.brand.logoUrl} alt="" /> : <BrandMark />}
            {page.brand.name}
          </span>
        </header>
        <main id="main" tabindex={-1} class="account-main">
          <div class="account-layout">
            <nav class="account-nav" aria-label={page.t('account.nav_label')}>
              <ul>
                {links.map((link) => (
                  <li key={link.path}>
                    <a
                      href={page.href(link.path)}
                      aria-current={link.path === props.current ? 'page' : undefined}
                    >
                      {page.t(link.nav)}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
            <div class="card account-card">
              <h1>{title}</h1>
              {props.done && (
                <div role="status">
                  <Notice tone="success">
                    <p>{props.done}</p>
                  </Notice>
                </div>
              )}
              {props.warning && (
                <div role="status">
                  <Notice tone="warning">
                    <p>{props.warning}</p>
                  </Notice>
                </div>
              )}
              {props.children}
            </div>
          </div>
        </main>
      </body>
    </html>
  )
}

/** A titled part of a console page. */
export function Section(props: { id: string; title: string; children: ComponentChildren }) {
  return (
    <section class="account-section" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      {props.children}
    </section>
  )
}
