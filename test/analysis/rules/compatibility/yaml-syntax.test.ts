import { yamlSyntaxRule } from '../../../../src/analysis/rules/compatibility/yaml-syntax';
import { lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

describe('yaml-syntax', () => {
  it('reports a key defined twice at the second key', () => {
    const findings = runRule(
      yamlSyntaxRule,
      lines('name: CI', 'on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    runs-on: ubuntu-24.04', '    steps:', '      - run: make'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'high', message: 'Key `runs-on` is defined twice in the same mapping.', line: 6, column: 5, endLine: 6, endColumn: 12 }),
    ]);
  });

  it('reports a syntax error with its position', () => {
    const findings = runRule(yamlSyntaxRule, lines('name: CI', 'on: [push', 'jobs: {}'));
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ line: 3, column: 1 });
    expect(findings[0]?.message).toMatch(/^YAML syntax error: /);
  });

  it('reports errors in action files too', () => {
    const findings = runRule(yamlSyntaxRule, lines('name: a', 'runs:', '  using: composite', '  using: node20'), { path: '.github/actions/setup/action.yml' });
    expect(findings).toEqual([expect.objectContaining({ line: 4, column: 3, endColumn: 8 })]);
  });

  it('stays silent on valid YAML, including case variants of a key and empty files', () => {
    expect(runRule(yamlSyntaxRule, lines('name: CI', 'on: push', 'env:', '  FOO: a', '  foo: b', 'jobs: {}'))).toEqual([]);
    expect(runRule(yamlSyntaxRule, '')).toEqual([]);
  });
});
