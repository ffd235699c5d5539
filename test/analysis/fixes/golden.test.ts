/**
 * Golden tests of rule fixes: every folder test/fixtures/fixes/<rule-id>/<case>/ holds input.yml and output.yml
 * (output.yml equal to input.yml when the finding must stay unfixed), optionally expected.diff (the exact diff) and
 * case.json: { "path": repository path of the file (default .github/workflows/ci.yml), "crlf": true to test both
 * files with CRLF line endings, "settings": fix settings, "otherFiles": { path: text } }. Each case runs only its
 * rule's fixes, unsafe ones included.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FixSettings } from '../../../src/analysis/rule';
import { repositoryFromFiles } from '../../../src/analysis/discover';
import { allRules } from '../../../src/analysis/rules';
import { fixRepository } from '../../../src/fixes/fix-repository';

interface CaseOptions {
  path?: string;
  crlf?: boolean;
  settings?: Partial<FixSettings>;
  otherFiles?: Record<string, string>;
}

const ROOT = join(__dirname, '..', '..', 'fixtures', 'fixes');

const cases = readdirSync(ROOT).flatMap((ruleId) => readdirSync(join(ROOT, ruleId)).map((name) => ({ ruleId, name, dir: join(ROOT, ruleId, name) })));

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
    if (existsSync(join(dir, 'expected.diff'))) expect(outcome.diff).toBe(read(dir, 'expected.diff', false));

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
    expect(again.diff).toBe('');
  });
});

describe('fix metadata', () => {
  it('every rule with golden fix cases declares its fix for the docs, and every declared fix has golden cases', () => {
    const withCases = readdirSync(ROOT).sort();
    const declared = allRules.filter((rule) => rule.fixes !== undefined).map((rule) => rule.id).sort();
    expect(declared).toEqual(withCases);
  });
});
