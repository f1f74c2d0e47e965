import { en, type MessageKey } from './en.js'
import { es } from './es.js'

export type { MessageKey } from './en.js'

export const LOCALES = ['en', 'es'] as const
export type Locale = (typeof LOCALES)[number]
export const DEFAULT_LOCALE: Locale = 'en'

const CATALOGUES: Readonly<Record<Locale, Readonly<Record<MessageKey, string>>>> = { en, es }

export type MessageParams = Readonly<Record<string, string | number>>
export type Translate = (key: MessageKey, params?: MessageParams) => string

/** Looks a message up in one catalogue and fills its `{name}` places; unknown places stay as they are. */
export function translator(locale: Locale): Translate {
  const catalogue = CATALOGUES[locale]
  return (key, params) => {
    const message = catalogue[key]
    if (!params) return message
    return message.replace(/\{([a-z_]+)\}/g, (place, name: string) =>
      Object.hasOwn(params, name) ? String(params[name]) : place,
    )
  }
}

/** The supported locale a language tag asks for (`es-MX` → es), if any. */
function supported(tag: string): Locale | undefined {
  const primary = tag.trim().toLowerCase().split('-')[0]
  return LOCALES.find((locale) => locale === primary)
}

/**
 * OpenID Connect's `ui_locales` (space-separated tags, most preferred first) wins, then the
 * browser's Accept-Language (by q-value, RFC 9110 section 12.5.4), then English. `fromQuery` says
 * the URL chose it, so links and forms on the page carry the choice along.
 */
export function chooseLocale(
  uiLocales: string | undefined,
  acceptLanguage: string | undefined,
): { locale: Locale; fromQuery: boolean } {
  for (const tag of (uiLocales ?? '').slice(0, 256).split(' ')) {
    const locale = supported(tag)
    if (locale) return { locale, fromQuery: true }
  }
  const ranges = (acceptLanguage ?? '')
    .slice(0, 1024)
    .split(',')
    .map((range, index) => {
      const [tag = '', ...params] = range.split(';')
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
      return { tag, q: q === undefined ? 1 : Number(q), index }
    })
    .filter((range) => range.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index)
  for (const range of ranges) {
    const locale = supported(range.tag)
    if (locale) return { locale, fromQuery: false }
  }
  return { locale: DEFAULT_LOCALE, fromQuery: false }
}
