/**
 * The pages' passkey ceremonies, run after @simplewebauthn/browser's own bundle in one file (see
 * assets.ts, PASSKEY_SCRIPT), served by Kitsune and loaded only by the pages that offer passkeys
 * (their CSP then allows `script-src 'self'` and `connect-src 'self'`, csp.ts). No inline handler,
 * no eval, nothing sent anywhere but Kitsune.
 *
 * The contract with the server-rendered pages: a `form[data-passkey]` (`register`, `sign-in` or
 * `second-factor`) posting to Kitsune, with its CSRF field, a hidden `credential` field, a
 * `[data-passkey-start]` submit button rendered `hidden`, a `[data-passkey-status]` live region, and
 * `data-options-url` (a POST answering WebAuthn options as JSON). The script shows the button when
 * the browser has WebAuthn; on submit it fetches the options (the form's fields, form-encoded),
 * runs the ceremony, puts the answer in `credential` and submits the form as usual, so the server's
 * redirects work exactly as for every other form. `data-passkey-autofill` on a sign-in form also
 * starts conditional mediation: passkeys offered in the e-mail field's autofill.
 * Messages come from `data-passkey-error` and `data-passkey-cancelled` (the page's language).
 */
export const PASSKEY_GLUE = `
;(() => {
  'use strict'
  const lib = window.SimpleWebAuthnBrowser
  if (!lib || !lib.browserSupportsWebAuthn()) return

  const fieldsOf = (form) => {
    const body = new URLSearchParams()
    for (const [name, value] of new FormData(form)) {
      if (name !== 'credential' && typeof value === 'string') body.append(name, value)
    }
    return body
  }

  const say = (form, key) => {
    const status = form.querySelector('[data-passkey-status]')
    if (!status) return
    status.textContent = ''
    const text = form.dataset[key] || ''
    setTimeout(() => {
      status.textContent = text
    }, 50)
  }

  const optionsFor = async (form) => {
    const response = await fetch(form.dataset.optionsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: fieldsOf(form),
      credentials: 'same-origin',
    })
    if (!response.ok) throw new Error('options: ' + response.status)
    return response.json()
  }

  const finish = (form, credential) => {
    form.querySelector('input[name="credential"]').value = JSON.stringify(credential)
    form.submit()
  }

  const ceremony = async (form, autofill) => {
    const optionsJSON = await optionsFor(form)
    if (form.dataset.passkey === 'register') return lib.startRegistration({ optionsJSON })
    return lib.startAuthentication({ optionsJSON, useBrowserAutofill: autofill })
  }

  const failed = (form, error) => {
    const name = error && (error.name || (error.cause && error.cause.name))
    say(form, name === 'NotAllowedError' || name === 'AbortError' ? 'passkeyCancelled' : 'passkeyError')
  }

  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const start = form.querySelector('[data-passkey-start]')
    if (!start || !form.querySelector('input[name="credential"]')) continue
    let busy = false
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      if (busy) return
      busy = true
      start.setAttribute('aria-busy', 'true')
      ceremony(form, false).then(
        (credential) => finish(form, credential),
        (error) => {
          busy = false
          start.removeAttribute('aria-busy')
          failed(form, error)
        },
      )
    })
    start.hidden = false
    const note = form.querySelector('[data-passkey-note]')
    if (note) note.hidden = false

    if (form.dataset.passkeyAutofill !== undefined) {
      lib.browserSupportsWebAuthnAutofill().then((supported) => {
        if (!supported) return
        ceremony(form, true).then(
          (credential) => finish(form, credential),
          () => undefined,
        )
      })
    }
  }
  // Pages that say "passkeys need JavaScript" hide that sentence once they work.
  for (const hint of document.querySelectorAll('[data-passkey-nojs]')) hint.hidden = true
})()
`
