import type { ComponentChildren } from 'preact'
import type { PageContext } from '../page-context.js'

/** Kitsune's mark: a fox's head drawn from a few shapes, decoration next to the brand name. */
export function BrandMark() {
  return (
    <svg viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <path fill="#b43c0a" d="M3 4l8 6h10l8-6-2 13-11 11L5 17z" />
      <path fill="#fff7ed" d="M8 17l8 3 8-3-8 9z" />
      <path fill="#1c1917" d="M14.5 24.5h3L16 26.5z" />
      <circle fill="#1c1917" cx="11.5" cy="15" r="1.5" />
      <circle fill="#1c1917" cx="20.5" cy="15" r="1.5" />
    </svg>
  )
}

/**
 * The frame of every page: language, title, stylesheet, a skip link to the main landmark, the
 * brand, and the page's content in a card. A page with form errors gets "Error: " before its
 * title, so a screen reader announces the problem when the page loads.
 */
export function Shell(props: {
  page: PageContext
  title: string
  hasErrors?: boolean
  /** Kitsune's own scripts this page loads (its CSP must allow them: csp.ts, allowScripts). */
  scripts?: readonly string[]
  children: ComponentChildren
}) {
  const { page, title } = props
  const documentTitle = `${props.hasErrors ? `${page.t('layout.error_prefix')}: ` : ''}${title} – ${page.brand.name}`
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
        <main id="main" tabindex={-1}>
          <div class="card">
            <h1>{title}</h1>
            {props.children}
          </div>
        </main>
      </body>
    </html>
  )
}

/** A sentence shown with a status icon: done (a check) or warning (an exclamation mark). */
export function Notice(props: { tone: 'success' | 'warning'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${props.tone}`}>
      <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="11" fill="currentColor" />
        {props.tone === 'success' ? (
          <path
            d="M7 12.5l3.2 3.2L17 9"
            fill="none"
            stroke="#fff"
            stroke-width="2.2"
            stroke-linecap="round"
          />
        ) : (
          <path d="M12 6.5v7M12 17v.5" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" />
        )}
      </svg>
      <div>{props.children}</div>
    </div>
  )
}

/** A link styled as the page's main action. */
export function ButtonLink(props: { href: string; children: ComponentChildren }) {
  return (
    <a class="button" href={props.href}>
      {props.children}
    </a>
  )
}
