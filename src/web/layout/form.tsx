import type { ComponentChildren } from 'preact'
import { CSRF_FIELD } from '../csrf.js'
import type { PageContext } from '../page-context.js'

/** A form's problems, each naming the field (its name and id) it is about. */
export type FieldErrors = ReadonlyArray<{ readonly field: string; readonly message: string }>

const errorId = (field: string) => `${field}-error`

/**
 * Every page form: POST to a page path (with the page's language kept), the CSRF field, and, when
 * there are errors, a summary first whose links move to each field. The summary takes the focus
 * when the page loads (autofocus, no script needed), so a screen reader reads it at once.
 */
export function PageForm(props: {
  page: PageContext
  action: string
  errors?: FieldErrors
  children: ComponentChildren
}) {
  const errors = props.errors ?? []
  return (
    <form method="post" action={props.page.href(props.action)} novalidate>
      {errors.length > 0 && <ErrorSummary page={props.page} errors={errors} />}
      <input type="hidden" name={CSRF_FIELD} value={props.page.csrfToken} />
      {props.children}
    </form>
  )
}

function ErrorSummary(props: { page: PageContext; errors: FieldErrors }) {
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1} autofocus>
      <h2 id="error-summary-title">{props.page.t('form.error_summary_title')}</h2>
      <ul>
        {props.errors.map((error) => (
          <li key={error.field}>
            <a href={`#${error.field}`}>{error.message}</a>
          </li>
        ))}
      </ul>
    </div>
  )
}

/** A labelled input with its hint and its error, tied together for assistive technology. */
export function Field(props: {
  name: string
  label: string
  type: 'email' | 'password' | 'text'
  autocomplete: string
  errors?: FieldErrors
  value?: string
  hint?: string
  required?: boolean
}) {
  const error = props.errors?.find((e) => e.field === props.name)
  const hintId = props.hint ? `${props.name}-hint` : undefined
  const describedBy = [hintId, error ? errorId(props.name) : undefined].filter(Boolean).join(' ')
  return (
    <div class="field">
      <label for={props.name}>{props.label}</label>
      {props.hint && (
        <span class="hint" id={hintId}>
          {props.hint}
        </span>
      )}
      {error && (
        <span class="field-error" id={errorId(props.name)}>
          {error.message}
        </span>
      )}
      <input
        id={props.name}
        name={props.name}
        type={props.type}
        autocomplete={props.autocomplete}
        value={props.value}
        required={props.required ?? true}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy || undefined}
        spellcheck={props.type === 'email' ? false : undefined}
        autocapitalize={props.type === 'email' ? 'none' : undefined}
      />
    </div>
  )
}

/** A value the form sends back unchanged (a link's token); never shown. */
export function HiddenField(props: { name: string; value: string }) {
  return <input type="hidden" name={props.name} value={props.value} />
}

export function SubmitButton(props: { children: ComponentChildren }) {
  return (
    <button class="button" type="submit">
      {props.children}
    </button>
  )
}
