/**
 * The expand/contract rule for migrations (docs/operations.md §5): during a rolling upgrade the
 * previous release runs on the schema the new one migrated, so a migration may add, never take
 * away. A statement that removes or narrows something the previous release may still use is
 * allowed only in a file that says, with a marker comment, which release stopped using it:
 *
 *   // contract: unused since 0.3.0 (users.legacy_flag)
 *
 * The release named must be the previous release or an older one: then no instance that can still
 * be running during the upgrade touches the object.
 */

export interface ContractingStatement {
  readonly rule: string
  readonly text: string
}

const RULES: ReadonlyArray<{ rule: string; pattern: RegExp }> = [
  {
    rule: 'DROP of a schema object',
    pattern:
      /\bDROP\s+(?:TABLE|VIEW|MATERIALIZED\s+VIEW|FUNCTION|PROCEDURE|TYPE|DOMAIN|SEQUENCE|INDEX|TRIGGER|SCHEMA|EXTENSION)\b/gi,
  },
  { rule: 'DROP COLUMN', pattern: /\bDROP\s+COLUMN\b/gi },
  // `ALTER TABLE t DROP c` drops a column too; DROP DEFAULT / DROP NOT NULL only relax one.
  {
    rule: 'DROP COLUMN',
    pattern:
      /\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?[\w."]+\s+DROP\s+(?!COLUMN\b|CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)\w/gi,
  },
  { rule: 'DROP CONSTRAINT', pattern: /\bDROP\s+CONSTRAINT\b/gi },
  { rule: 'RENAME', pattern: /\bRENAME\b/gi },
  { rule: 'ALTER COLUMN … TYPE', pattern: /\bALTER\s+(?:COLUMN\s+)?[\w"]+\s+(?:SET\s+DATA\s+)?TYPE\b/gi },
  { rule: 'SET NOT NULL', pattern: /\bSET\s+NOT\s+NULL\b/gi },
  // The previous release inserts rows without the new column: it needs a default.
  {
    rule: 'ADD COLUMN … NOT NULL without a DEFAULT',
    pattern:
      /\bADD\s+(?:COLUMN\s+)?(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|CHECK\b|FOREIGN\b|EXCLUDE\b)(?:IF\s+NOT\s+EXISTS\s+)?[\w"]+\s+(?![^,;`]*\bDEFAULT\b)[^,;`]*\bNOT\s+NULL\b/gi,
  },
]

const MARKER = /\/\/\s*contract:\s*unused since v?(\d+\.\d+\.\d+)\b/i

/** The source with comments removed, so prose about a statement is not taken for one. */
function withoutComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .split('\n')
    .map((line) => line.replace(/^\s*\/\/.*$/, '').replace(/\s--\s.*$/, ''))
    .join('\n')
}

/** Every statement in a migration's source that removes or narrows what exists. */
export function contractingStatements(source: string): ContractingStatement[] {
  const code = withoutComments(source)
  const found: ContractingStatement[] = []
  for (const { rule, pattern } of RULES) {
    for (const match of code.matchAll(pattern)) {
      found.push({ rule, text: match[0].replace(/\s+/g, ' ').trim() })
    }
  }
  return found
}

/** The release a marker comment names as the last to use what the migration removes. */
export function contractMarker(source: string): string | undefined {
  return MARKER.exec(source)?.[1]
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/**
 * What is wrong with a migration that ships after `previousVersion`: nothing for an expanding one,
 * or one line per contracting statement when no valid marker allows them.
 */
export function compatibilityProblems(name: string, source: string, previousVersion: string): string[] {
  const statements = contractingStatements(source)
  if (statements.length === 0) return []
  const marker = contractMarker(source)
  if (marker && compareVersions(marker, previousVersion) <= 0) return []
  const why = marker
    ? `its marker names ${marker}, which is newer than the previous release ${previousVersion} (still running during the upgrade)`
    : `it has no "// contract: unused since <version>" marker`
  return statements.map((s) => `${name}: ${s.rule} (${s.text}) — ${why}`)
}
