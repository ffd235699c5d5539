/**
 * Temporary golden runner for the knowledge-based fixes until fix-core's harness (test/analysis/fixes/golden.test.ts)
 * lands: the same fixture layout, test/fixtures/fixes/<rule-id>/<case>/{input.yml,output.yml,case.json}, for the
 * rules of this branch only. Delete this file once the shared harness is merged.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryFromFiles } from '../../../src/analysis/discover';
import type { FixSettings } from '../../../src/analysis/rule';
import { allRules } from '../../../src/analysis/rules';
import { fixRepository } from '../../../src/fixes/fix-repository';

interface CaseOptions {
  path?: string;
  crlf?: boolean;
  settings?: Partial<FixSettings>;
  otherFiles?: Record<string, string>;
}

const ROOT = join(__dirname, '..', '..', 'fixtures', 'fixes');
const RULE_IDS = [
  'missing-permissions',
  'missing-dependency-cache',
  'retired-action-version',
  'outdated-action-runtime',
  'retired-runner-label',
  'unpinned-image',
  'npm-install-instead-of-ci',
].filter((ruleId) => existsSync(join(ROOT, ruleId)));

const cases = RULE_IDS.flatMap((ruleId) => readdirSync(join(ROOT, ruleId)).map((name) => ({ ruleId, name, dir: join(ROOT, ruleId, name) })));

function read(dir: string, name: string, crlf: boolean): string {
  const text = readFileSync(join(dir, name), 'utf8');
  return crlf ? text.replace(/\n/g, '\r\n') : text;
}

async function fixOnce(ruleId: string, options: CaseOptions, path: string, text: string) {
  const view = repositoryFromFiles(new Map([...Object.entries(options.otherFiles ?? {}), [path, text]]));
  return fixRepository(view, { rules: allRules, ruleIds: [ruleId], unsafe: true, only: [path], ...(options.settings ? { settings: options.settings } : {}) });
}

describe.each(cases)('$ruleId / $name', ({ ruleId, dir }) => {
  const options = (existsSync(join(dir, 'case.json')) ? JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) : {}) as CaseOptions;
  const crlf = options.crlf === true;
  const path = options.path ?? '.github/workflows/ci.yml';
  const input = read(dir, 'input.yml', crlf);
  const expected = read(dir, 'output.yml', crlf);

  it('fixes the input into the expected output, and the result is a fixpoint', async () => {
    const outcome = await fixOnce(ruleId, options, path, input);
    expect(outcome.files.find((file) => file.path === path)?.after ?? input).toBe(expected);
    expect(outcome.introduced).toEqual([]);
    const fixedFingerprints = new Set(outcome.applied.map(({ finding }) => finding.fingerprint));
    expect(outcome.remaining.filter((finding) => fixedFingerprints.has(finding.fingerprint))).toEqual([]);
    if (expected === input) {
      expect(outcome.applied).toEqual([]);
      expect(outcome.unfixable.map(({ finding }) => finding.ruleId)).toContain(ruleId);
    } else {
      expect(outcome.applied.length).toBeGreaterThan(0);
      expect(outcome.remaining.filter((finding) => finding.ruleId === ruleId && finding.fixable)).toEqual([]);
    }
    const again = await fixOnce(ruleId, options, path, expected);
    expect(again.files).toEqual([]);
  });
});
