import { createHash } from 'node:crypto'
import { KITSUNE_CSS } from './kitsune.css.js'

/** A file the pages load, at a URL that changes with its content so it can be cached for good. */
export interface Asset {
  readonly path: string
  readonly contentType: string
  readonly body: string
}

const hashOf = (content: string) => createHash('sha256').update(content).digest('hex').slice(0, 12)

export const STYLESHEET: Asset = {
  path: `/ui/assets/kitsune.${hashOf(KITSUNE_CSS)}.css`,
  contentType: 'text/css; charset=utf-8',
  body: KITSUNE_CSS,
}

export const ASSETS: readonly Asset[] = [STYLESHEET]
