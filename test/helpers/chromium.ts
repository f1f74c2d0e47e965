import { type Browser, chromium } from 'playwright-core'
import { systemTool } from './system-tools.js'

/** Debian's Chromium package: browser tests never download a browser. */
export const chromiumBinary = systemTool('/usr/bin/chromium', 'apt-get install chromium')

// Headless, as root (no sandbox), with nothing reaching out to the network. launch() gives every
// run a fresh temporary profile (user-data-dir) and deletes it on close.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Starts Debian's Chromium (failing, with what to install, when it is missing). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumBinary.require(), args: CHROMIUM_ARGS })
}

/**
 * An init script (page.addInitScript) that runs before the page's own scripts and keeps every CSP
 * violation the browser reports in `window.cspViolations`.
 */
export const RECORD_CSP_VIOLATIONS = `
  window.cspViolations = []
  document.addEventListener('securitypolicyviolation', (event) => {
    window.cspViolations.push({
      directive: event.effectiveDirective,
      blocked: event.blockedURI,
      source: event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber,
      sample: event.sample,
    })
  })
`
