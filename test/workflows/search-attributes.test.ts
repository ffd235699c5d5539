import { indexedTargetNames } from '../../src/workflows/search-attributes';

describe('indexedTargetNames', () => {
  test('a fleet\'s names are cut to the first ones whose JSON list fits in Temporal\'s 2 KiB value limit', () => {
    const names = Array.from({ length: 100 }, (_, index) => `org/service-${String(index).padStart(3, '0')}-abcdefgh`);
    const kept = indexedTargetNames(names);
    expect(JSON.stringify(names).length).toBeGreaterThan(2048);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(2048);
    expect(kept).toEqual(names.slice(0, kept.length));
    // One more name would not fit.
    expect(JSON.stringify(names.slice(0, kept.length + 1)).length).toBeGreaterThan(2048);
  });

  test('names that fit are all kept', () => {
    expect(indexedTargetNames(['org/a', 'org/b'])).toEqual(['org/a', 'org/b']);
    expect(indexedTargetNames([])).toEqual([]);
  });
});
