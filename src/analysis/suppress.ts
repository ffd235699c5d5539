/**
 * Inline suppressions: a `# wpa: ignore[rule-id]` (or `ignore[rule-a, rule-b]`) comment on a finding's first line
 * or on the line above it hides that finding, as zizmor's `# zizmor: ignore[...]` does.
 */

const IGNORE_COMMENT = /#\s*wpa:\s*ignore\[([^\]]*)\]/g;

/** Rule ids suppressed per 1-based line of a file's text. */
export type SuppressionMap = ReadonlyMap<number, ReadonlySet<string>>;

export function parseSuppressions(text: string): SuppressionMap {
  const byLine = new Map<number, Set<string>>();
  // Fast path: almost no file has a suppression comment.
  if (!text.includes('wpa:')) return byLine;
  const lines = text.split(/\r?\n/);
  lines.forEach((lineText, index) => {
    for (const match of lineText.matchAll(IGNORE_COMMENT)) {
      const ids = (match[1] ?? '').split(',').map((id) => id.trim()).filter((id) => id.length > 0);
      if (ids.length === 0) continue;
      const set = byLine.get(index + 1) ?? new Set<string>();
      for (const id of ids) set.add(id);
      byLine.set(index + 1, set);
    }
  });
  return byLine;
}

export function isSuppressed(suppressions: SuppressionMap, ruleId: string, line: number): boolean {
  return (suppressions.get(line)?.has(ruleId) ?? false) || (suppressions.get(line - 1)?.has(ruleId) ?? false);
}
