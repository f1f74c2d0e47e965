/** The account console's messages (English, the reference: its keys must be covered by account.es.ts). */
export const accountEn = {} as const satisfies Record<string, string>
