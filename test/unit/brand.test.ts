import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load-config.js'
import { accentColours, brandOf } from '../../src/web/assets/assets.js'
import { logoOrigins, pageCspWithFormTargets } from '../../src/web/csp.js'

const channel = (hex: string, i: number) => Number.parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255
const linear = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
const contrastWithWhite = (hex: string) =>
  1.05 /
  (0.2126 * linear(channel(hex, 0)) +
    0.7152 * linear(channel(hex, 1)) +
    0.0722 * linear(channel(hex, 2)) +
    0.05)

describe('brand (BRAND_NAME, BRAND_LOGO_URL, BRAND_COLOR)', () => {
  it('keeps white text on the accent at 4.5:1 or more, whatever colour is configured', () => {
    for (const color of ['#b43c0a', '#ffff00', '#7dd3fc', '#ffffff', '#000000', '#22c55e']) {
      const { accent, dark } = accentColours(color)
      expect(contrastWithWhite(accent)).toBeGreaterThanOrEqual(4.5)
      expect(contrastWithWhite(dark)).toBeGreaterThanOrEqual(7)
    }
    // A colour that already contrasts is used as given.
    expect(accentColours('#1d4ed8').accent).toBe('#1d4ed8')
  })

  it('serves a stylesheet whose URL changes with the colour', () => {
    const a = brandOf({ name: 'Acme', logoUrl: undefined, color: '#1d4ed8' })
    const b = brandOf({ name: 'Acme', logoUrl: undefined, color: '#15803d' })
    expect(a.stylesheet.body).toContain('--accent:#1d4ed8')
    expect(a.stylesheet.path).not.toBe(b.stylesheet.path)
  })

  it('lets the page CSP load the logo from its origin only', () => {
    expect(logoOrigins('https://cdn.example.com/logo.svg')).toEqual(['https://cdn.example.com'])
    expect(pageCspWithFormTargets([], ['https://cdn.example.com'])).toContain(
      "img-src 'self' data: https://cdn.example.com;",
    )
  })

  it('refuses a colour that is not #rrggbb and a logo URL that is not http(s), naming the variable', () => {
    const env = { NODE_ENV: 'test', SECRET_KEY: 'k'.repeat(40), KITSUNE_DATA_DIR: '/nonexistent' }
    expect(() => loadConfig({ ...env, BRAND_COLOR: 'orange' })).toThrow(/BRAND_COLOR/)
    expect(() => loadConfig({ ...env, BRAND_LOGO_URL: 'javascript:alert(1)' })).toThrow(/BRAND_LOGO_URL/)
    const config = loadConfig({ ...env, BRAND_NAME: 'Acme ID', BRAND_COLOR: '#1D4ED8' })
    expect(config.brand).toEqual({ name: 'Acme ID', logoUrl: undefined, color: '#1d4ed8' })
  })
})
