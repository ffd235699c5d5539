import { dropOldest } from '../../src/util/drop-oldest';

describe('dropOldest', () => {
  test('drops the first-inserted keys of a Map until the bound holds; a key set again keeps its first place', () => {
    const entries = new Map([['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
    entries.set('a', 5);
    dropOldest(entries, 2);
    expect([...entries.keys()]).toEqual(['c', 'd']);
  });

  test('a Set within its bound, or a bound of 0', () => {
    const seen = new Set(['x', 'y']);
    dropOldest(seen, 2);
    expect([...seen]).toEqual(['x', 'y']);
    dropOldest(seen, 0);
    expect(seen.size).toBe(0);
  });
});
