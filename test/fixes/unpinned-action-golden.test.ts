/**
 * Golden cases of the unpinned-action fix (test/fixtures/fixes/unpinned-action/<case>/): the same checks as the
 * golden harness of test/analysis/fixes, with the action refs of each case from its refs.json (`owner/repo@ref` to
 * `{ sha, version? }` or `{ unresolved }`), so pinning runs offline.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryFromFiles } from '../../src/analysis/discover';
import { allRules } from '../../src/analysis/rules';
import { fixRepository } from '../../src/fixes/fix-repository';
import { type ActionRefAnswer, actionRefTable } from '../support/action-refs';

const RULE_ID = 'unpinned-action';
const ROOT = join(__dirname, '..', 'fixtures', 'fixes', RULE_ID);

interface CaseOptions {
  path?: string;
  crlf?: boolean;
}

function read(dir: string, name: string, crlf: boolean): string {
  const text = readFileSync(join(dir, name), 'utf8');
  return crlf ? text.replace(/\n/g, '\r\n') : text;
}

describe.each(readdirSync(ROOT).map((name) => ({ name, dir: join(ROOT, name) })))('unpinned-action / $name', ({ dir }) => {
  const options = (existsSync(join(dir, 'case.json')) ? JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) : {}) as CaseOptions;
  const refs = JSON.parse(readFileSync(join(dir, 'refs.json'), 'utf8')) as Record<string, ActionRefAnswer>;
  const crlf = options.crlf === true;
  const path = options.path ?? '.github/workflows/ci.yml';
  const input = read(dir, 'input.yml', crlf);
  const expected = read(dir, 'output.yml', crlf);
  const fix = (text: string) =>
    fixRepository(repositoryFromFiles(new Map([[path, text]])), { rules: allRules, ruleIds: [RULE_ID], unsafe: true, only: [path], actionRefs: actionRefTable(refs) });

  it('fixes the input into the expected output, and the result is a fixpoint', async () => {
    const outcome = await fix(input);
    expect(outcome.files.find((file) => file.path === path)?.after ?? input).toBe(expected);
    expect(outcome.introduced).toEqual([]);
    const fixedFingerprints = new Set(outcome.applied.map(({ finding }) => finding.fingerprint));
    expect(outcome.remaining.filter((finding) => fixedFingerprints.has(finding.fingerprint))).toEqual([]);
    if (expected === input) {
      expect(outcome.applied).toEqual([]);
      expect(outcome.unfixable.map(({ finding }) => finding.ruleId)).toContain(RULE_ID);
    } else {
      expect(outcome.applied.map(({ safety }) => safety)).toEqual(outcome.applied.map(() => 'safe'));
      expect(outcome.remaining.filter((finding) => finding.ruleId === RULE_ID && finding.fixable)).toEqual([]);
    }
    const again = await fix(expected);
    expect(again.files).toEqual([]);
  });
});
