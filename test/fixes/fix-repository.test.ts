import { isScalar } from 'yaml';
import type { Severity } from '../../src/domain/types';
import { repositoryFromFiles } from '../../src/analysis/discover';
import { insertPair, replaceScalar } from '../../src/analysis/edit/yaml-edits';
import { type FixPlan, mapGet, mapPair, rootMap, type Rule, type RuleContext, scalarText } from '../../src/analysis/rule';
import { allRules } from '../../src/analysis/rules';
import { fixRepository, introducedFindings } from '../../src/fixes/fix-repository';

const CI = '.github/workflows/ci.yml';

function view(text: string, others: Record<string, string> = {}) {
  return repositoryFromFiles(new Map([[CI, text], ...Object.entries(others)]));
}

/** A test rule: `check` reports what it likes, with the given fixes. */
function rule(id: string, check: (ctx: RuleContext) => void, severity: Severity = 'low'): Rule {
  return {
    id,
    category: 'quality',
    severity,
    confidence: 'high',
    appliesTo: ['workflow'],
    description: 'test rule',
    rationale: 'test rationale',
    remediation: 'test remediation',
    examples: { bad: '', good: '' },
    check,
  };
}

/** Reports the workflow `name` once per letter it lacks, each fix appending its letter (all edit the same scalar). */
function appendLetters(...letters: string[]): Rule {
  return rule('test-letters', (ctx) => {
    const name = mapGet(rootMap(ctx.file), 'name');
    if (!isScalar(name)) return;
    for (const letter of letters) {
      if ((scalarText(name) ?? '').includes(letter)) continue;
      const fix: FixPlan = {
        safety: 'safe',
        title: `Append ${letter}`,
        edits: ({ file }) => {
          const current = mapGet(rootMap(file), 'name');
          if (!isScalar(current)) return { unfixable: 'no name' };
          const edit = replaceScalar(file, current, `${scalarText(current) ?? ''}${letter}`);
          return 'unfixable' in edit ? edit : [edit];
        },
      };
      ctx.report({ node: name, message: `name lacks ${letter}`, fix });
    }
  });
}

/** Reports a missing top-level `env`; the fix is given. */
function missingEnv(fix: FixPlan, severity: Severity = 'low'): Rule {
  return rule('test-env', (ctx) => {
    const root = rootMap(ctx.file);
    if (root && !mapPair(root, 'env')) ctx.report({ node: root, message: 'no env', fix });
  }, severity);
}

const addEnv = (value: string): FixPlan => ({
  safety: 'safe',
  title: 'Add env',
  edits: ({ file }) => {
    const root = rootMap(file);
    return root ? [insertPair(file, root, 'env', { MODE: value })] : { unfixable: 'no root' };
  },
});

/** High severity: an env MODE of `danger`. */
const dangerousMode = rule('test-danger', (ctx) => {
  const mode = mapGet(mapGet(rootMap(ctx.file), 'env'), 'MODE');
  if (scalarText(mode) === 'danger' && mode) ctx.report({ node: mode, message: 'dangerous mode' });
}, 'high');

const WORKFLOW = 'name: CI\non: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: y\n';

describe('fixRepository', () => {
  it('adds a job timeout only when unsafe fixes are allowed', async () => {
    const text = ['on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    steps:', '      - run: make test', ''].join('\n');
    const safeOnly = await fixRepository(view(text), { rules: allRules, ruleIds: ['missing-job-timeout'] });
    expect(safeOnly.files).toEqual([]);
    expect(safeOnly.diff).toBe('');
    const outcome = await fixRepository(view(text), { rules: allRules, ruleIds: ['missing-job-timeout'], unsafe: true, settings: { jobTimeoutMinutes: 45 } });
    expect(outcome.files[0]?.after).toBe(
      ['on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    timeout-minutes: 45', '    steps:', '      - run: make test', ''].join('\n'),
    );
    expect(outcome.applied.map(({ finding, safety }) => [finding.ruleId, safety])).toEqual([['missing-job-timeout', 'unsafe']]);
    expect(outcome.remaining.some((finding) => finding.ruleId === 'missing-job-timeout')).toBe(false);
    expect(outcome.diff).toContain('+    timeout-minutes: 45\n');
  });

  it('applies overlapping fixes in later passes, recomputed on the edited text, up to a fixpoint', async () => {
    const outcome = await fixRepository(view(WORKFLOW), { rules: [appendLetters('a', 'b', 'c')] });
    expect(outcome.files[0]?.after).toBe(WORKFLOW.replace('name: CI', 'name: CIabc'));
    expect(outcome.applied.map(({ title }) => title)).toEqual(['Append a', 'Append b', 'Append c']);
    expect(outcome.unfixable).toEqual([]);
    expect(outcome.remaining).toEqual([]);
    const again = await fixRepository(view(outcome.files[0]?.after ?? ''), { rules: [appendLetters('a', 'b', 'c')] });
    expect(again.files).toEqual([]);
  });

  it('fixes only the selected rules and fingerprints', async () => {
    const rules = [appendLetters('a'), missingEnv(addEnv('calm'))];
    const byRule = await fixRepository(view(WORKFLOW), { rules, ruleIds: ['test-env'] });
    expect(byRule.applied.map(({ finding }) => finding.ruleId)).toEqual(['test-env']);
    const everything = await fixRepository(view(WORKFLOW), { rules });
    const envFinding = everything.applied.find(({ finding }) => finding.ruleId === 'test-env')?.finding;
    const byFingerprint = await fixRepository(view(WORKFLOW), { rules, fingerprints: [envFinding?.fingerprint ?? ''] });
    expect(byFingerprint.applied.map(({ finding }) => finding.ruleId)).toEqual(['test-env']);
    expect(byFingerprint.files[0]?.after).toBe(byRule.files[0]?.after);
  });

  it('drops a fix whose result does not parse, keeps its finding and says why', async () => {
    const broken: FixPlan = { safety: 'safe', title: 'Break', edits: () => [{ start: 0, end: 0, text: 'env: [\n' }] };
    const outcome = await fixRepository(view(WORKFLOW), { rules: [missingEnv(broken)] });
    expect(outcome.files).toEqual([]);
    expect(outcome.unfixable).toEqual([{ finding: expect.objectContaining({ ruleId: 'test-env' }), reason: expect.stringMatching(/^the fixed file does not parse: /) }]);
  });

  it('drops a fix that brings a new finding of medium severity or worse, or breaks the schema', async () => {
    const outcome = await fixRepository(view(WORKFLOW), { rules: [missingEnv(addEnv('danger')), dangerousMode] });
    expect(outcome.files).toEqual([]);
    expect(outcome.unfixable.map(({ reason }) => reason)).toEqual(['the fix brings a new finding: test-danger: dangerous mode']);

    const schemaRule = allRules.filter((candidate) => candidate.id === 'schema-violation');
    const badKey: FixPlan = {
      safety: 'safe',
      title: 'Add a key GitHub does not know',
      edits: ({ file }) => {
        const root = rootMap(file);
        return root ? [insertPair(file, root, 'enviroment', 'x')] : { unfixable: 'no root' };
      },
    };
    const schema = await fixRepository(view(WORKFLOW), { rules: [missingEnv(badKey), ...schemaRule] });
    expect(schema.files).toEqual([]);
    expect(schema.unfixable[0]?.reason).toMatch(/^the fixed file breaks the workflow schema: /);
  });

  it('drops a fix that leaves its finding, and keeps the good fixes of the same pass', async () => {
    const noOp: FixPlan = { safety: 'safe', title: 'Add a comment', edits: ({ file }) => [{ start: file.text.length, end: file.text.length, text: '# touched\n' }] };
    const outcome = await fixRepository(view(WORKFLOW), { rules: [missingEnv(noOp), appendLetters('z')] });
    expect(outcome.files[0]?.after).toBe(WORKFLOW.replace('name: CI', 'name: CIz'));
    expect(outcome.unfixable.map(({ reason }) => reason)).toEqual(['the edit did not remove the finding']);
  });

  it('reports plans that cannot be fixed, fixes that throw, and action refs without a resolver', async () => {
    const needsRef: FixPlan = {
      safety: 'safe',
      title: 'Pin',
      edits: ({ actionRefs }) => {
        const resolved = actionRefs.resolve('actions', 'checkout', 'v4');
        return 'unresolved' in resolved ? { unfixable: resolved.unresolved } : [];
      },
    };
    const throwing: FixPlan = { safety: 'safe', title: 'Throw', edits: () => { throw new Error('boom'); } };
    const [refs, thrown] = await Promise.all([
      fixRepository(view(WORKFLOW), { rules: [missingEnv(needsRef)] }),
      fixRepository(view(WORKFLOW), { rules: [missingEnv(throwing)] }),
    ]);
    expect(refs.unfixable.map(({ reason }) => reason)).toEqual(['action refs are not resolved: no resolver configured']);
    expect(thrown.unfixable.map(({ reason }) => reason)).toEqual(['the fix failed: boom']);
  });

  it('skips unsafe fixes unless asked and lists notes of findings without a fix', async () => {
    const unsafe: FixPlan = { ...addEnv('calm'), safety: 'unsafe' };
    expect((await fixRepository(view(WORKFLOW), { rules: [missingEnv(unsafe)] })).applied).toEqual([]);
    expect((await fixRepository(view(WORKFLOW), { rules: [missingEnv(unsafe)], unsafe: true })).applied).toHaveLength(1);
    const noted = rule('test-noted', (ctx) => {
      const root = rootMap(ctx.file);
      if (root) ctx.report({ node: root, message: 'noted', unfixable: 'nobody knows how' });
    });
    const outcome = await fixRepository(view(WORKFLOW), { rules: [noted] });
    expect(outcome.unfixable).toEqual([{ finding: expect.objectContaining({ ruleId: 'test-noted', fixable: false, fixNote: 'nobody knows how' }), reason: 'nobody knows how' }]);
  });
});

describe('introducedFindings', () => {
  const finding = (fingerprint: string, message: string, severity: Severity = 'high') => ({
    ruleId: 'r', category: 'quality' as const, severity, confidence: 'high' as const, file: 'f', line: 1, column: 1, endLine: 1, endColumn: 1,
    message, remediation: '', fixable: false, fingerprint,
  });

  it('counts a finding whose anchor text changed as the same finding, and ignores low severities', () => {
    expect(introducedFindings([finding('1', 'm')], [finding('2', 'm')])).toEqual([]);
    expect(introducedFindings([finding('1', 'm')], [finding('1', 'm'), finding('2', 'm')])).toEqual([finding('2', 'm')]);
    expect(introducedFindings([], [finding('3', 'n', 'low')])).toEqual([]);
  });
});
