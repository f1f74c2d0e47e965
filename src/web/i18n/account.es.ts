import type { accountEn } from './account.en.js'

/** The account console's messages in Spanish. */
export const accountEs: Readonly<Record<keyof typeof accountEn, string>> = {}
