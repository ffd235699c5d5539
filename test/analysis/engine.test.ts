import { parseConfig } from '../../src/analysis/config';
import { repositoryFromFiles } from '../../src/analysis/discover';
import { analyzeRepository, type AnalyzeOptions } from '../../src/analysis/engine';
import { type FixPlan, type Rule, stepsOf } from '../../src/analysis/rule';
import { expressionRule, syntaxRule, throwingRule, usesRule } from '../support/engine-rules';

const CI = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.ref }}" && echo "\${{ github.sha }}"
`;

const ACTION = `name: setup
runs:
  using: composite
  steps:
    - uses: actions/cache@v4
`;

function analyze(files: Record<string, string>, options: Partial<AnalyzeOptions> = {}, rules: Rule[] = [usesRule, expressionRule]) {
  return analyzeRepository(repositoryFromFiles(new Map(Object.entries(files))), { rules, ruleErrors: 'throw', ...options });
}

describe('analyzeRepository', () => {
  test('marks findings with a fix plan fixable with its safety, keeps the note of those without, and hands out plans on request', () => {
    const plan: FixPlan = { safety: 'unsafe', title: 'Do it', edits: () => [] };
    const fixing: Rule = {
      ...usesRule,
      id: 'test-fixing',
      check(ctx) {
        const [fixed, noted] = stepsOf(ctx.file);
        if (fixed) ctx.report({ node: fixed.node, message: 'fixable', fix: plan });
        if (noted) ctx.report({ node: noted.node, message: 'not fixable', unfixable: 'because' });
      },
    };
    const plain = analyze({ '.github/workflows/ci.yml': CI }, {}, [fixing]);
    expect(plain.findings.map(({ fixable, fixSafety, fixNote }) => ({ fixable, fixSafety, fixNote }))).toEqual([
      { fixable: true, fixSafety: 'unsafe', fixNote: undefined },
      { fixable: false, fixSafety: undefined, fixNote: 'because' },
    ]);
    expect(plain.fixPlans).toBeUndefined();
    const planned = analyze({ '.github/workflows/ci.yml': CI }, { withFixPlans: true }, [fixing]);
    expect([...(planned.fixPlans ?? new Map<string, FixPlan>())]).toEqual([[planned.findings[0]?.fingerprint, plan]]);
  });

  test('builds complete findings with positions from the node or the narrowed range, in deterministic order', () => {
    const result = analyzeRepository(
      repositoryFromFiles(new Map([['.github/workflows/ci.yml', CI], ['.github/actions/setup/action.yml', ACTION]])),
      { rules: [expressionRule, usesRule] },
    );
    expect(result.findings.map(({ file, line, column, endLine, endColumn, ruleId, severity }) => ({ file, line, column, endLine, endColumn, ruleId, severity }))).toEqual([
      { file: '.github/actions/setup/action.yml', line: 5, column: 13, endLine: 5, endColumn: 29, ruleId: 'test-uses', severity: 'medium' },
      { file: '.github/workflows/ci.yml', line: 6, column: 15, endLine: 6, endColumn: 34, ruleId: 'test-uses', severity: 'medium' },
      { file: '.github/workflows/ci.yml', line: 7, column: 20, endLine: 7, endColumn: 23, ruleId: 'test-expression', severity: 'high' },
      { file: '.github/workflows/ci.yml', line: 7, column: 48, endLine: 7, endColumn: 51, ruleId: 'test-expression', severity: 'high' },
    ]);
    const first = result.findings[0];
    expect(first).toMatchObject({ category: 'security', confidence: 'high', remediation: 'test remediation', fixable: false, message: 'step uses actions/cache@v4' });
    expect(first?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(result.diagnostics).toEqual([]);
    expect(result.files.map((file) => file.path)).toEqual(['.github/actions/setup/action.yml', '.github/workflows/ci.yml']);
  });

  test('runs rules only on the file kinds they apply to', () => {
    const result = analyze({ '.github/actions/setup/action.yml': ACTION.replace('uses: actions/cache@v4', 'run: echo ${{ inputs.x }}') });
    expect(result.findings).toEqual([]);
  });

  test('files with YAML errors get only the yaml-syntax rule', () => {
    const broken = `${CI}  bad: [unclosed\n`;
    const result = analyze({ '.github/workflows/ci.yml': broken }, {}, [usesRule, expressionRule, syntaxRule]);
    expect(result.findings.map((finding) => finding.ruleId)).toEqual(['yaml-syntax']);
    expect(analyze({ '.github/workflows/ci.yml': CI }, {}, [usesRule, syntaxRule]).findings.map((f) => f.ruleId)).toEqual(['test-uses']);
  });

  test('a rule that throws becomes a diagnostic in production and an exception under ruleErrors=throw', () => {
    const files = { '.github/workflows/ci.yml': CI };
    const recorded = analyze(files, { ruleErrors: 'record' }, [throwingRule, usesRule]);
    expect(recorded.diagnostics).toEqual([{ file: '.github/workflows/ci.yml', ruleId: 'test-throws', message: 'boom' }]);
    expect(recorded.findings.map((finding) => finding.ruleId)).toEqual(['test-uses']);
    expect(() => analyze(files, {}, [throwingRule])).toThrow('boom');
  });

  test('fingerprints are stable when unrelated lines move and differ between occurrences', () => {
    const before = analyze({ '.github/workflows/ci.yml': CI }).findings;
    const moved = CI.replace('on: push\n', 'on: push\n# a comment\nenv:\n  A: 1\n').replace('      - uses', '      - name: checkout\n        uses');
    const after = analyze({ '.github/workflows/ci.yml': moved }).findings;
    expect(after.map((finding) => finding.line)).not.toEqual(before.map((finding) => finding.line));
    expect(after.map((finding) => finding.fingerprint)).toEqual(before.map((finding) => finding.fingerprint));
    expect(new Set(before.map((finding) => finding.fingerprint)).size).toBe(before.length);
    const changed = analyze({ '.github/workflows/ci.yml': CI.replace('checkout@v4', 'checkout@v5') }).findings;
    expect(changed[0]?.fingerprint).not.toBe(before[0]?.fingerprint);
    expect(changed[1]?.fingerprint).toBe(before[1]?.fingerprint);
  });

  test('fingerprints follow the YAML path: the same line in two jobs keeps its fingerprint when the jobs swap', () => {
    const job = (name: string) => `  ${name}:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n`;
    const byJob = (text: string) => {
      const findings = analyze({ '.github/workflows/ci.yml': text }).findings;
      const lines = text.split('\n');
      return new Map(findings.map((finding) => [lines.slice(0, finding.line).reverse().find((line) => /^ {2}\w/.test(line)), finding.fingerprint]));
    };
    const original = byJob(`on: push\njobs:\n${job('lint')}${job('test')}`);
    const swapped = byJob(`on: push\njobs:\n${job('test')}${job('lint')}`);
    expect(original.size).toBe(2);
    expect(swapped).toEqual(original);
  });

  test('identical findings in different files have different fingerprints', () => {
    const result = analyze({ '.github/workflows/a.yml': CI, '.github/workflows/b.yml': CI });
    expect(new Set(result.findings.map((finding) => finding.fingerprint)).size).toBe(result.findings.length);
  });

  test('inline suppressions hide findings on their line or the line below', () => {
    const suppressed = CI.replace('- uses: actions/checkout@v4', '- uses: actions/checkout@v4 # wpa: ignore[test-uses]').replace(
      '      - run:',
      '      # wpa: ignore[other-rule, test-expression]\n      - run:',
    );
    const result = analyze({ '.github/workflows/ci.yml': suppressed });
    expect(result.findings).toEqual([]);
    expect(result.suppressed).toBe(3);
    const wrongId = analyze({ '.github/workflows/ci.yml': CI.replace('@v4', '@v4 # wpa: ignore[test-expression]') });
    expect(wrongId.findings.map((finding) => finding.ruleId)).toContain('test-uses');
  });

  test('configuration disables rules, overrides severities and ignores paths', () => {
    const files = { '.github/workflows/ci.yml': CI, '.github/workflows/legacy-old.yml': CI };
    const config = parseConfig(
      'rules:\n  test-expression: { enabled: false }\n  test-uses: { severity: critical }\nignore: [".github/workflows/legacy-*.yml"]\n',
      'wpa.yml',
      new Set(['test-expression', 'test-uses']),
    );
    const result = analyze(files, { config });
    expect(result.findings.map(({ file, ruleId, severity }) => ({ file, ruleId, severity }))).toEqual([
      { file: '.github/workflows/ci.yml', ruleId: 'test-uses', severity: 'critical' },
    ]);
    expect(result.files.map((file) => file.path)).toEqual(['.github/workflows/ci.yml']);
  });

  test('baseline, minimum severity, categories and only filter findings; scores follow the reported findings', () => {
    const files = { '.github/workflows/ci.yml': CI, '.github/workflows/other.yml': CI.replace('checkout@v4', 'checkout@v3') };
    const all = analyze(files);
    expect(all.findings).toHaveLength(6);
    const baseline = new Set(analyze({ '.github/workflows/ci.yml': CI }).findings.map((finding) => finding.fingerprint));
    const withBaseline = analyze(files, { baseline });
    expect(withBaseline.baselined).toBe(3);
    expect(withBaseline.findings.every((finding) => finding.file === '.github/workflows/other.yml')).toBe(true);
    expect(withBaseline.files).toEqual([
      { path: '.github/workflows/ci.yml', score: 100 },
      { path: '.github/workflows/other.yml', score: 51 },
    ]);
    expect(analyze(files, { minSeverity: 'high' }).findings.every((finding) => finding.severity === 'high')).toBe(true);
    expect(analyze(files, { categories: ['security'] }).findings.every((finding) => finding.ruleId === 'test-uses')).toBe(true);
    expect(new Set(analyze(files, { only: ['.github/workflows/other.yml'] }).findings.map((finding) => finding.file))).toEqual(
      new Set(['.github/workflows/other.yml']),
    );
    expect(all.score).toBeLessThan(withBaseline.score);
  });

  test('rule timings are collected when profiling', () => {
    const result = analyze({ '.github/workflows/ci.yml': CI }, { profile: true });
    expect(Object.keys(result.ruleTimings ?? {}).sort()).toEqual(['test-expression', 'test-uses']);
  });
});
