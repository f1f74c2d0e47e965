import { CSRF_FIELD } from './csrf.js'

/**
 * The JSON Schema of a page form's body: the CSRF field plus the named text fields, each optional
 * (a missing field is the page's to report next to the field, not a bare 400) and bounded.
 */
export function formBodySchema(fields: Readonly<Record<string, number>>) {
  const properties: Record<string, { type: 'string'; maxLength: number }> = {
    [CSRF_FIELD]: { type: 'string', maxLength: 128 },
  }
  for (const [name, maxLength] of Object.entries(fields)) properties[name] = { type: 'string', maxLength }
  return { type: 'object', properties, additionalProperties: false }
}

/** The query string of a page: only the named parameters are read; others are ignored. */
export function pageQuerySchema(fields: Readonly<Record<string, number>> = {}) {
  const properties: Record<string, { type: 'string'; maxLength: number }> = {
    ui_locales: { type: 'string', maxLength: 256 },
  }
  for (const [name, maxLength] of Object.entries(fields)) properties[name] = { type: 'string', maxLength }
  return { type: 'object', properties }
}

/** The longest token a link may carry; anything up to it is looked up like any other (see auth.schemas.ts). */
export const TOKEN_MAX_LENGTH = 8192
