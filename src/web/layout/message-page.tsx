import type { ComponentChildren } from 'preact'
import type { PageContext } from '../page-context.js'
import { ButtonLink, Notice, Shell } from './shell.js'

/**
 * A page that only tells something (done, link expired, an error), with at most one way on. The
 * tone adds a status icon; `children` follow the first paragraph.
 */
export function MessagePage(props: {
  page: PageContext
  title: string
  body: string
  tone?: 'success' | 'warning'
  action?: { href: string; label: string }
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
      {props.action && (
        <div class="actions">
          <ButtonLink href={props.page.href(props.action.href)}>{props.action.label}</ButtonLink>
        </div>
      )}
    </Shell>
  )
}
