import type { ComponentChildren } from 'preact'
import type { PageContext } from '../page-context.js'
import { ButtonLink, Notice, Shell } from './shell.js'

/**
 * A page that only tells something (done, link expired, an error): at most one main action (a
 * button-styled link) and plain links after it. The tone adds a status icon; `children` follow
 * the first paragraph.
 */
export function MessagePage(props: {
  page: PageContext
  title: string
  body: string
  tone?: 'success' | 'warning'
  action?: { href: string; label: string }
  links?: ReadonlyArray<{ href: string; label: string }>
  children?: ComponentChildren
}) {
  return (
    <Shell page={props.page} title={props.title}>
      {props.tone ? (
        <Notice tone={props.tone}>
          <p>{props.body}</p>
        </Notice>
      ) : (
        <p>{props.body}</p>
      )}
      {props.children}
      {(props.action || props.links) && (
        <div class="actions">
          {props.action && (
            <ButtonLink href={props.page.href(props.action.href)}>{props.action.label}</ButtonLink>
          )}
          {props.links?.map((link) => (
            <a key={link.href} href={props.page.href(link.href)}>
              {link.label}
            </a>
          ))}
        </div>
      )}
    </Shell>
  )
}
