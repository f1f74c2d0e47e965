import type { adminEn } from './admin.en.js'

/** The admin console's messages in Spanish. */
export const adminEs: Readonly<Record<keyof typeof adminEn, string>> = {}
