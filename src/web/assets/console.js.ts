/**
 * The admin console's one script, served by Kitsune at a URL carrying its hash (see assets.ts) and
 * loaded only by the pages that ask for it (AdminShell's `script`), whose CSP then allows
 * `script-src 'self'` (csp.ts, allowScripts). Progressive enhancement only: every page works
 * without it. It shows the copy buttons the server renders `hidden` (`data-copy-target` names the
 * field to copy, `data-copy-status` the live region that says how it went) when the browser has
 * the Clipboard API. No inline handler, no eval, nothing sent anywhere.
 */
export const CONSOLE_JS = `'use strict'
;(() => {
  const clipboard = navigator.clipboard
  if (!clipboard || typeof clipboard.writeText !== 'function') return
  const statuses = []
  for (const button of document.querySelectorAll('button[data-copy-target]')) {
    const field = document.getElementById(button.dataset.copyTarget || '')
    const status = document.getElementById(button.dataset.copyStatus || '')
    if (!field || typeof field.value !== 'string') continue
    if (status) statuses.push(status)
    const say = (text) => {
      // Only the last copy is reported; emptied first, so the same words are announced again.
      for (const other of statuses) other.textContent = ''
      if (!status) return
      setTimeout(() => {
        status.textContent = text
      }, 100)
    }
    button.addEventListener('click', () => {
      clipboard.writeText(field.value).then(
        () => say(button.dataset.copied || ''),
        () => {
          field.focus()
          field.select()
          say(button.dataset.copyFailed || '')
        },
      )
    })
    button.hidden = false
  }
})()
`
