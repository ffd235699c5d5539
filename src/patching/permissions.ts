/**
 * GITHUB_TOKEN permissions as an ordered grant per scope (none < read < write), so two `permissions:` blocks
 * can be compared whatever their form: a scope map, `read-all`, `write-all`, `{}`, or no block at all.
 */
import { isMap, isScalar } from 'yaml';
import { mapEntries, scalarText } from '../analysis/rule';

export type PermissionLevel = 'none' | 'read' | 'write';

const RANK: Readonly<Record<PermissionLevel, number>> = { none: 0, read: 1, write: 2 };

/** Scopes GitHub documents for GITHUB_TOKEN; `read-all`/`write-all` and a missing block cover all of them. */
export const KNOWN_SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
] as const;

export type PermissionGrant =
  /** No `permissions:` block: the repository or organization default, which may be write for every scope. */
  | { kind: 'default' }
  /** `read-all` or `write-all`. */
  | { kind: 'all'; level: PermissionLevel }
  /** A scope map; unlisted scopes are `none` (`{}` is an empty map). */
  | { kind: 'scopes'; scopes: ReadonlyMap<string, PermissionLevel> }
  /** Anything else (an expression, a typo): assumed to grant write everywhere, the worst case. */
  | { kind: 'unknown'; text: string };

function toLevel(text: string | undefined): PermissionLevel | undefined {
  return text === 'none' || text === 'read' || text === 'write' ? text : undefined;
}

/**
 * Reads a `permissions:` value. `present` is false when the key is missing (then the value is ignored), so a
 * missing block and an empty one stay different.
 */
export function readPermissionGrant(present: boolean, value: unknown): PermissionGrant {
  if (!present) return { kind: 'default' };
  if (isScalar(value)) {
    const text = scalarText(value) ?? '';
    if (text === 'read-all') return { kind: 'all', level: 'read' };
    if (text === 'write-all') return { kind: 'all', level: 'write' };
    return { kind: 'unknown', text };
  }
  if (!isMap(value)) return { kind: 'unknown', text: '' };
  const scopes = new Map<string, PermissionLevel>();
  for (const { key, value: levelNode } of mapEntries(value)) scopes.set(key, toLevel(scalarText(levelNode)) ?? 'write');
  return { kind: 'scopes', scopes };
}

/** The effective level of one scope; a default or unknown grant counts as write (it may be). */
export function levelOf(grant: PermissionGrant, scope: string): PermissionLevel {
  switch (grant.kind) {
    case 'default':
    case 'unknown':
      return 'write';
    case 'all':
      return grant.level;
    case 'scopes':
      return grant.scopes.get(scope) ?? 'none';
  }
}

/** How a grant reads in a message. */
export function describeGrant(grant: PermissionGrant): string {
  switch (grant.kind) {
    case 'default':
      return 'no permissions block (repository default, possibly write-all)';
    case 'unknown':
      return `unrecognized permissions "${grant.text}"`;
    case 'all':
      return `${grant.level}-all`;
    case 'scopes':
      return grant.scopes.size === 0 ? '{}' : [...grant.scopes].map(([scope, level]) => `${scope}: ${level}`).join(', ');
  }
}

export interface ScopeChange {
  scope: string;
  from: PermissionLevel;
  to: PermissionLevel;
}

/** Per-scope differences between two grants, split into widened and narrowed scopes. */
export function compareGrants(before: PermissionGrant, after: PermissionGrant): { widened: ScopeChange[]; narrowed: ScopeChange[] } {
  const scopes = new Set<string>(KNOWN_SCOPES);
  for (const grant of [before, after]) if (grant.kind === 'scopes') for (const scope of grant.scopes.keys()) scopes.add(scope);
  const widened: ScopeChange[] = [];
  const narrowed: ScopeChange[] = [];
  for (const scope of [...scopes].sort()) {
    const from = levelOf(before, scope);
    const to = levelOf(after, scope);
    if (RANK[to] > RANK[from]) widened.push({ scope, from, to });
    else if (RANK[to] < RANK[from]) narrowed.push({ scope, from, to });
  }
  return { widened, narrowed };
}
