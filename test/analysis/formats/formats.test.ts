import { repositoryFromFiles } from '../../../src/analysis/discover';
import { analyzeRepository } from '../../../src/analysis/engine';
import { formatJson } from '../../../src/analysis/formats/json';
import type { AnalysisReport } from '../../../src/analysis/formats/report';
import { formatSarif } from '../../../src/analysis/formats/sarif';
import { formatText } from '../../../src/analysis/formats/text';
import type { Rule } from '../../../src/analysis/rule';
import { allRules } from '../../../src/analysis/rules';
import { expressionRule, throwingRule, usesRule } from '../../support/engine-rules';
import { sarifValidator } from '../../support/sarif-schema';

const CI = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.ref }}"
`;

function report(rules: Rule[] = [usesRule, expressionRule], files: Record<string, string> = { '.github/workflows/ci.yml': CI }): AnalysisReport {
  const view = repositoryFromFiles(new Map(Object.entries(files)));
  const result = analyzeRepository(view, { rules });
  return {
    tool: { name: 'wpa', version: '1.2.3' },
    rules,
    repositories: [{ root: 'repo', pathPrefix: 'repo/', result, sources: new Map(view.workflowFiles.map((file) => [file.path, file.text])) }],
  };
}

describe('text format', () => {
  test('shows file:line:col, severity, rule, message, the source line with carets, the fix and a summary', () => {
    const text = formatText(report(), { color: false });
    expect(text).toBe(
      [
        'repo/.github/workflows/ci.yml:6:15: medium test-uses: step uses actions/checkout@v4',
        '    6 |       - uses: actions/checkout@v4',
        '      |               ^^^^^^^^^^^^^^^^^^^',
        '  fix: test remediation',
        '',
        'repo/.github/workflows/ci.yml:7:20: high test-expression: expression in script',
        '    7 |       - run: echo "${{ github.ref }}"',
        '      |                    ^^^',
        '  fix: test remediation',
        '',
        'repo: 2 findings (1 high, 1 medium) in 1 file; score 68/100',
        '',
      ].join('\n'),
    );
    expect(text).not.toContain('\u001b[');
  });

  test('uses ANSI colors only when asked', () => {
    expect(formatText(report(), { color: true })).toContain('\u001b[31mhigh\u001b[0m');
  });

  test('lists rule failures as warnings', () => {
    expect(formatText(report([throwingRule]), { color: false })).toContain('warning: rule test-throws failed on repo/.github/workflows/ci.yml: boom');
  });
});

describe('json format', () => {
  test('is stable and complete', () => {
    const first = formatJson(report());
    expect(formatJson(report())).toBe(first);
    const parsed = JSON.parse(first) as { version: number; tool: unknown; repositories: Array<Record<string, unknown>> };
    expect(parsed.version).toBe(1);
    expect(parsed.tool).toEqual({ name: 'wpa', version: '1.2.3' });
    expect(Object.keys(parsed.repositories[0] ?? {})).toEqual(['root', 'score', 'files', 'findings', 'suppressed', 'baselined', 'diagnostics']);
    expect(parsed.repositories[0]?.findings).toEqual(report().repositories[0]?.result.findings);
  });
});

describe('sarif format', () => {
  const validate = sarifValidator();

  test('validates against the official SARIF 2.1.0 schema, with the real rules and diagnostics', () => {
    for (const sample of [report(), report([...allRules, usesRule, expressionRule, throwingRule])]) {
      const log = JSON.parse(formatSarif(sample)) as unknown;
      const valid = validate(log);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    }
  });

  test('the schema check can fail', () => {
    const log = JSON.parse(formatSarif(report())) as { runs: Array<{ results: Array<{ level: string }> }> };
    const result = log.runs[0]?.results[0];
    if (result) result.level = 'fatal';
    expect(validate(log)).toBe(false);
  });

  test('carries rule metadata, levels, relative locations and fingerprints for GitHub code scanning', () => {
    const log = JSON.parse(formatSarif(report())) as {
      version: string;
      runs: Array<{ tool: { driver: { rules: Array<Record<string, unknown>> } }; results: Array<Record<string, unknown>> }>;
    };
    expect(log.version).toBe('2.1.0');
    const run = log.runs[0];
    expect(run?.tool.driver.rules.map((rule) => rule.id)).toEqual(['test-expression', 'test-uses']);
    expect(run?.tool.driver.rules[1]).toMatchObject({
      name: 'TestUses',
      shortDescription: { text: 'test rule' },
      fullDescription: { text: 'test rationale' },
      defaultConfiguration: { level: 'warning' },
      properties: { tags: ['security', 'ci', 'github-actions'], precision: 'high', 'security-severity': '5.5' },
    });
    expect(run?.tool.driver.rules[0]?.properties).not.toHaveProperty('security-severity');
    expect(run?.results[1]).toMatchObject({
      ruleId: 'test-expression',
      ruleIndex: 0,
      level: 'error',
      message: { text: 'expression in script' },
      locations: [
        { physicalLocation: { artifactLocation: { uri: 'repo/.github/workflows/ci.yml' }, region: { startLine: 7, startColumn: 20, endLine: 7, endColumn: 23 } } },
      ],
    });
    expect(Object.values(run?.results[1]?.partialFingerprints as Record<string, string>)[0]).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('fixable findings', () => {
  const FIXABLE = `on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: git fetch origin main
`;
  const rules = allRules.filter((rule) => ['missing-job-timeout', 'missing-concurrency-cancel', 'checkout-persisted-credentials'].includes(rule.id));
  const sample = (): AnalysisReport => report(rules, { '.github/workflows/ci.yml': FIXABLE });

  test('text marks them and ends with how many `wpa fix` can fix', () => {
    const text = formatText(sample(), { color: false });
    expect(text).toContain('missing-concurrency-cancel: the workflow runs on `pull_request` without a `concurrency` group that cancels runs for superseded commits [fixable]\n');
    expect(text).toContain('missing-job-timeout: job `build` has no `timeout-minutes`, so a hung run lasts up to 360 minutes [fixable: unsafe]\n');
    expect(text).toMatch(/no later step pushes with git\n/);
    expect(text.endsWith('1 finding can be fixed with `wpa fix` (1 more with --unsafe-fixes)\n')).toBe(true);
  });

  test('JSON and SARIF carry the fix safety, and the note of a finding without a fix', () => {
    const findings = (JSON.parse(formatJson(sample())) as { repositories: Array<{ findings: Array<Record<string, unknown>> }> }).repositories[0]?.findings;
    expect(findings?.map(({ ruleId, fixable, fixSafety, fixNote }) => ({ ruleId, fixable, fixSafety, fixNote }))).toEqual([
      { ruleId: 'missing-concurrency-cancel', fixable: true, fixSafety: 'safe', fixNote: undefined },
      { ruleId: 'missing-job-timeout', fixable: true, fixSafety: 'unsafe', fixNote: undefined },
      { ruleId: 'checkout-persisted-credentials', fixable: false, fixSafety: undefined, fixNote: 'step `#2` runs `git fetch`, which may need the persisted credential' },
    ]);
    const log = JSON.parse(formatSarif(sample())) as { runs: Array<{ results: Array<{ properties: Record<string, unknown> }> }> };
    expect(log.runs[0]?.results.map((result) => result.properties.fixSafety)).toEqual(['safe', 'unsafe', undefined]);
  });
});
