/** The admin console's messages (English, the reference: its keys must be covered by admin.es.ts). */
export const adminEn = {} as const satisfies Record<string, string>
