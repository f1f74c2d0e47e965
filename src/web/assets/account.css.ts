/** The account console's styles, appended to the pages' stylesheet (see assets.ts). */
export const ACCOUNT_CSS = ``
