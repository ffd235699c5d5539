import { SEVERITIES, type Severity } from '../../src/domain/types';
import { fileScore, repositoryScore } from '../../src/analysis/score';

/** mulberry32: a small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSeverities(random: () => number, max: number): Severity[] {
  return Array.from({ length: Math.floor(random() * (max + 1)) }, () => SEVERITIES[Math.floor(random() * SEVERITIES.length)] ?? 'info');
}

describe('score', () => {
  test('documented reference values', () => {
    expect(fileScore([])).toBe(100);
    expect(fileScore(['info', 'info'])).toBe(100);
    expect(fileScore(['critical'])).toBe(50);
    expect(fileScore(['high'])).toBe(75);
    expect(fileScore(['medium'])).toBe(90);
    expect(fileScore(['low'])).toBe(97);
    expect(fileScore(['critical', 'critical'])).toBe(25);
    expect(repositoryScore([])).toBe(100);
    expect(repositoryScore([[], [], ['critical']])).toBe(Math.round(0.5 * (250 / 3) + 0.5 * 50));
  });

  test('removing any finding never lowers a file or repository score (property, 2000 random cases)', () => {
    const random = prng(0x5eed);
    for (let round = 0; round < 2000; round += 1) {
      const files = Array.from({ length: 1 + Math.floor(random() * 6) }, () => randomSeverities(random, 12));
      const before = repositoryScore(files);
      expect(before).toBeGreaterThanOrEqual(0);
      expect(before).toBeLessThanOrEqual(100);
      const fileIndex = Math.floor(random() * files.length);
      const file = files[fileIndex] ?? [];
      if (file.length === 0) continue;
      const findingIndex = Math.floor(random() * file.length);
      const smaller = file.filter((_, index) => index !== findingIndex);
      const context = `files=${JSON.stringify(files)} remove file ${fileIndex} finding ${findingIndex}`;
      if (fileScore(smaller) < fileScore(file)) throw new Error(`file score dropped: ${context}`);
      const after = repositoryScore(files.map((severities, index) => (index === fileIndex ? smaller : severities)));
      if (after < before) throw new Error(`repository score dropped: ${context}`);
    }
  });

  test('more severe findings cost more and scores stay within 0..100', () => {
    const random = prng(42);
    for (let round = 0; round < 500; round += 1) {
      const severities = randomSeverities(random, 40);
      const score = fileScore(severities);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(100);
    }
    const ordered = SEVERITIES.map((severity) => fileScore([severity]));
    expect([...ordered].sort((a, b) => a - b)).toEqual(ordered);
  });
});
