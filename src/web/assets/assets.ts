import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { BrandConfig } from '../../config/config.schema.js'
import { ACCOUNT_CSS } from './account.css.js'
import { ADMIN_CSS } from './admin.css.js'
import { CONSOLE_JS } from './console.js.js'
import { KITSUNE_CSS } from './kitsune.css.js'
import { PASSKEY_GLUE } from './passkey.js.js'

/** A file the pages load, at a URL that changes with its content so it can be cached for good. */
export interface Asset {
  readonly path: string
  readonly contentType: string
  readonly body: string
}

const hashOf = (content: string) => createHash('sha256').update(content).digest('hex').slice(0, 12)

/** What every page shows of the brand: its name, its logo, and the stylesheet with its colour. */
export interface PageBrand {
  readonly name: string
  readonly logoUrl: string | undefined
  readonly stylesheet: Asset
}

const channel = (hex: string, i: number) => Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255
const linear = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
const luminance = (hex: string) =>
  0.2126 * linear(channel(hex, 0)) + 0.7152 * linear(channel(hex, 1)) + 0.0722 * linear(channel(hex, 2))
/** WCAG 2.2 contrast ratio of white text on this colour. */
const contrastWithWhite = (hex: string) => 1.05 / (luminance(hex) + 0.05)
const darken = (hex: string, factor: number) =>
  `#${[0, 1, 2]
    .map((i) =>
      Math.round(channel(hex, i) * 255 * factor)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`

/**
 * The accent colours for BRAND_COLOR: darkened as far as needed for white button text and links
 * to keep a 4.5:1 contrast (WCAG 2.2 AA), whatever colour is configured.
 */
export function accentColours(color: string): { accent: string; dark: string; soft: string } {
  let accent = color.toLowerCase()
  for (let i = 0; i < 20 && contrastWithWhite(accent) < 4.6; i++) accent = darken(accent, 0.9)
  let dark = darken(accent, 0.78)
  for (let i = 0; i < 20 && contrastWithWhite(dark) < 7; i++) dark = darken(dark, 0.9)
  return { accent, dark, soft: '#fff1e6' }
}

/** The stylesheet for a brand: Kitsune's, with the accent colour set from BRAND_COLOR. */
export function brandOf(config: BrandConfig): PageBrand {
  const { accent, dark } = accentColours(config.color)
  const body = `${KITSUNE_CSS}${ACCOUNT_CSS}${ADMIN_CSS}:root{--accent:${accent};--accent-dark:${dark}}\n`
  return {
    name: config.name,
    logoUrl: config.logoUrl,
    stylesheet: {
      path: `/ui/assets/kitsune.${hashOf(body)}.css`,
      contentType: 'text/css; charset=utf-8',
      body,
    },
  }
}

/** The admin console's script (copy buttons), for the pages that load it; see console.js.ts. */
export const CONSOLE_SCRIPT: Asset = {
  path: `/ui/assets/console.${hashOf(CONSOLE_JS)}.js`,
  contentType: 'text/javascript; charset=utf-8',
  body: CONSOLE_JS,
}

/** Kitsune's own look (the defaults), for code that renders without a configuration. */
export const DEFAULT_BRAND: PageBrand = brandOf({ name: 'Kitsune', logoUrl: undefined, color: '#b43c0a' })

/**
 * @simplewebauthn/browser's own prebuilt bundle (it defines `SimpleWebAuthnBrowser`), from the
 * installed package: Kitsune serves it, no CDN.
 */
function webAuthnBrowserBundle(): string {
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser')
  return readFileSync(join(dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8')
}

const PASSKEY_JS = `${webAuthnBrowserBundle()}\n${PASSKEY_GLUE}`

/** The passkey ceremonies (the WebAuthn library and Kitsune's glue, one file); see passkey.js.ts. */
export const PASSKEY_SCRIPT: Asset = {
  path: `/ui/assets/passkey.${hashOf(PASSKEY_JS)}.js`,
  contentType: 'text/javascript; charset=utf-8',
  body: PASSKEY_JS,
}
