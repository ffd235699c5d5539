import { unnamedDefinitionRule } from '../../../../src/analysis/rules/quality/unnamed-definition';
import { lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

const job = (id: string, name?: string): string[] => [`  ${id}:`, ...(name ? [`    name: ${name}`] : []), '    runs-on: ubuntu-24.04', '    steps: [{ run: make }]'];

describe('unnamed-definition', () => {
  it('reports a workflow without name at its first key', () => {
    expect(runRule(unnamedDefinitionRule, lines('on: push', 'jobs:', ...job('test')))).toEqual([
      expect.objectContaining({ severity: 'info', line: 1, column: 1, endLine: 1, endColumn: 3, message: 'This workflow has no `name:`; GitHub shows it under its file path.' }),
    ]);
  });

  it('reports the unnamed job when most of its siblings have names', () => {
    const findings = runRule(unnamedDefinitionRule, lines('name: CI', 'on: push', 'jobs:', ...job('lint', 'Lint'), ...job('test', 'Tests'), ...job('docs')));
    expect(findings).toEqual([
      expect.objectContaining({ line: 12, column: 3, endColumn: 7, message: 'Job `docs` has no `name:` while 2 of the 3 jobs in this workflow have one; its checks show the raw id.' }),
    ]);
  });

  it('reports an action without name as low', () => {
    const findings = runRule(unnamedDefinitionRule, lines('description: d', 'runs:', '  using: node24', '  main: index.js'), { path: '.github/actions/a/action.yml' });
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 1, message: 'This action has no `name:`.' })]);
  });

  it('stays silent when ids are the naming style of the workflow', () => {
    expect(runRule(unnamedDefinitionRule, lines('name: CI', 'on: push', 'jobs:', ...job('lint', 'Lint'), ...job('test'), ...job('docs')))).toEqual([]);
    expect(runRule(unnamedDefinitionRule, lines('name: CI', 'on: push', 'jobs:', ...job('lint'), ...job('test')))).toEqual([]);
  });
});
