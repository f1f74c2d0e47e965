/** The admin console's styles, appended to the pages' stylesheet (see assets.ts). */
export const ADMIN_CSS = ``
