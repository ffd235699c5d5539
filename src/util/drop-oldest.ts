/**
 * Bounds an insertion-ordered cache: Maps and Sets iterate in insertion order, so the first keys are the oldest and
 * go first until at most `maxSize` are left.
 */
export function dropOldest(entries: Map<unknown, unknown> | Set<unknown>, maxSize: number): void {
  for (const oldest of entries.keys()) {
    if (entries.size <= maxSize) return;
    entries.delete(oldest);
  }
}
