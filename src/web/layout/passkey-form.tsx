import type { ComponentChildren } from 'preact'
import { CSRF_FIELD } from '../csrf.js'
import type { PageContext } from '../page-context.js'

/**
 * A form whose submission is a passkey ceremony (the contract of assets/passkey.js.ts): the
 * script shows its button when the browser has WebAuthn, fetches options from `optionsUrl` with the
 * form's fields, and submits the form with the authenticator's answer in `credential`. Without
 * JavaScript the button stays hidden and the form says passkeys need it. The page that renders it
 * loads PASSKEY_SCRIPT and calls allowScripts (csp.ts).
 */
export function PasskeyForm(props: {
  page: PageContext
  mode: 'register' | 'sign-in' | 'second-factor'
  action: string
  optionsUrl: string
  label: string
  hidden?: Readonly<Record<string, string | undefined>>
  /** Offer passkeys in the e-mail field's autofill (conditional mediation) too. */
  autofill?: boolean
  /** The button's id, for an error summary's link. */
  buttonId?: string
  /** Say that passkeys need JavaScript, when it is off. */
  noScriptHint?: boolean
  children?: ComponentChildren
}) {
  const { page } = props
  return (
    <form
      method="post"
      action={page.href(props.action)}
      class="passkey-form"
      data-passkey={props.mode}
      data-options-url={page.href(props.optionsUrl)}
      data-passkey-error={page.t('passkey.error')}
      data-passkey-cancelled={page.t('passkey.cancelled')}
      data-passkey-autofill={props.autofill ? '' : undefined}
      novalidate
    >
      <input type="hidden" name={CSRF_FIELD} value={page.csrfToken} />
      {Object.entries(props.hidden ?? {}).map(([name, value]) =>
        value === undefined ? null : <input key={name} type="hidden" name={name} value={value} />,
      )}
      <input type="hidden" name="credential" value="" />
      {props.children}
      <button id={props.buttonId} class="button secondary" type="submit" data-passkey-start hidden>
        {props.label}
      </button>
      {props.noScriptHint && (
        <p class="hint" data-passkey-nojs>
          {page.t('passkey.needs_js')}
        </p>
      )}
      <p class="passkey-status" role="status" data-passkey-status />
    </form>
  )
}
