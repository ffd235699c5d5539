import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BaselineError, parseBaseline, readBaseline, serializeBaseline, writeBaseline } from '../../src/analysis/baseline';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('baseline', () => {
  test('serializes sorted unique fingerprints and reads them back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wpa-baseline-'));
    try {
      const path = join(dir, 'baseline.json');
      writeBaseline(path, [{ fingerprint: B }, { fingerprint: A }, { fingerprint: B }]);
      expect(readFileSync(path, 'utf8')).toBe(serializeBaseline([{ fingerprint: A }, { fingerprint: B }]));
      expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([A, B]);
      expect(readBaseline(path)).toEqual(new Set([A, B]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rejects files that are not a list of fingerprints', () => {
    expect(() => parseBaseline('{', 'b.json')).toThrow(BaselineError);
    expect(() => parseBaseline('{"fingerprints": []}', 'b.json')).toThrow(/^b\.json: .*a baseline is a JSON list of fingerprints/);
    expect(() => parseBaseline(`["${A}", "nope"]`, 'b.json')).toThrow(/^b\.json\[1\]: expected a sha256 fingerprint/);
    expect(() => readBaseline('/nonexistent/b.json')).toThrow(/cannot read baseline: ENOENT/);
  });
});
