import type { Mapped } from './import-record.js'
import type { SourceItem } from './readers.js'

/** A role a source defines (Kitsune's own export carries its custom roles). */
export interface RoleDefinition {
  name: string
  description: string
  permissions: string[]
}

/** How one kind of file is read and what each of its records means in Kitsune's terms. */
export interface ImportSource {
  read(path: string): AsyncIterable<SourceItem>
  map(value: unknown, line: number): Mapped
  /** Roles to create (with these descriptions and permissions) when an account needs them. */
  roles?: RoleDefinition[]
  /** Any role a record names is created if missing (Keycloak's realm roles). */
  createsRoles?: boolean
}

export const IMPORT_KINDS = ['keycloak', 'supabase', 'auth0', 'firebase', 'jsonl'] as const
export type ImportKind = (typeof IMPORT_KINDS)[number]
