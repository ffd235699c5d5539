/**
 * At most `bound` of the items' work at a time, the next item started as soon as one ends: unlike fixed batches,
 * nothing waits for the slowest of a batch. Deterministic in workflow code (completions arrive in history order);
 * the results are in the items' order.
 */
export async function inBoundedPool<T, R>(items: readonly T[], bound: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) results[index] = await work(items[index] as T, index);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, bound), items.length) }, lane));
  return results;
}
