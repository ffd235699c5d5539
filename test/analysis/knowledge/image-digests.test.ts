import { type ImageDigest, imageDigests, knownImageDigest, normalizeImageReference, reviewed } from '../../../src/analysis/knowledge/image-digests';

describe('image digest knowledge', () => {
  it('is dated, and every entry is a full-version tag with a sha256 digest, a record date and a source', () => {
    expect(reviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [reference, entry] of imageDigests) {
      // Floating tags move; only exact releases may have a recorded digest.
      expect(reference).toMatch(/^[a-z0-9._/-]+:\d+\.\d+\.\d+(?:-[a-z0-9.]+)?$/);
      expect(normalizeImageReference(reference)).toBe(reference);
      expect(entry.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(entry.recorded).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(entry.source).toMatch(/^https:\/\//);
    }
  });

  it.each([
    ['node:18.13.0', 'node:18.13.0'],
    ['library/node:18.13.0', 'node:18.13.0'],
    ['docker.io/library/node:18.13.0', 'node:18.13.0'],
    ['index.docker.io/library/node:18.13.0', 'node:18.13.0'],
    [' ghcr.io/acme/tool:1.2.3 ', 'ghcr.io/acme/tool:1.2.3'],
    ['docker.io/acme/tool:1.2.3', 'acme/tool:1.2.3'],
  ])('normalizes %s to %s', (reference, normalized) => {
    expect(normalizeImageReference(reference)).toBe(normalized);
  });

  it('finds recorded digests by any spelling of the reference, and nothing for floating tags', () => {
    expect(knownImageDigest('docker.io/library/node:18.13.0')?.digest).toBe('sha256:d871edd5b68105ebcbfcde3fe8c79d24cbdbb30430d9bd6251c57c56c7bd7646');
    expect(knownImageDigest('node:18')).toBeUndefined();
    expect(knownImageDigest('node')).toBeUndefined();
  });

  it('looks up an injected table', () => {
    const entry: ImageDigest = { digest: `sha256:${'a'.repeat(64)}`, recorded: '2026-01-01', source: 'https://example.test/record' };
    const table = new Map([['redis:7.4.1', entry]]);
    expect(knownImageDigest('docker.io/library/redis:7.4.1', table)).toBe(entry);
    expect(knownImageDigest('node:18.13.0', table)).toBeUndefined();
  });
});
