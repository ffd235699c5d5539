import { jobGraphErrorRule } from '../../../../src/analysis/rules/compatibility/job-graph-error';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

const jobBody = ['    runs-on: ubuntu-24.04', '    steps:', '      - run: make'];

describe('job-graph-error', () => {
  it('reports a needs entry naming no job, with a suggestion', () => {
    const findings = runRule(jobGraphErrorRule, lines('on: push', 'jobs:', '  build:', ...jobBody, '  publish:', '    needs: [biuld]', ...jobBody));
    expect(findings).toEqual([
      expect.objectContaining({
        line: 8,
        column: 13,
        endLine: 8,
        endColumn: 18,
        message: 'Job `publish` needs `biuld`, which is not a job of this workflow; did you mean `build`?',
      }),
    ]);
  });

  it('reports a cycle once, at the first job of the cycle', () => {
    const findings = runRule(
      jobGraphErrorRule,
      lines('on: push', 'jobs:', '  a:', '    needs: c', ...jobBody, '  b:', '    needs: a', ...jobBody, '  c:', '    needs: [b]', ...jobBody, '  d:', '    needs: d', ...jobBody),
    );
    expect(findings).toEqual([
      expect.objectContaining({ line: 4, column: 12, endColumn: 13, message: 'Jobs `a`, `b`, `c` need each other in a cycle; GitHub rejects the workflow.' }),
      expect.objectContaining({ line: 19, column: 12, message: 'Job `d` needs itself; GitHub rejects the workflow.' }),
    ]);
  });

  it('reports step ids used twice in a job (case-insensitively) and in composite actions', () => {
    const findings = runRule(
      jobGraphErrorRule,
      lines('on: push', 'jobs:', '  build:', '    runs-on: ubuntu-24.04', '    steps:', '      - id: test', '        run: a', '      - id: Test', '        run: b'),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 8, column: 13, endColumn: 17, message: 'Step id `Test` is used twice in job `build` (first on line 6); GitHub rejects the file.' })]);
    const action = lines('name: a', 'description: b', 'runs:', '  using: composite', '  steps:', '    - id: x', '      run: a', '      shell: bash', '    - id: x', '      run: b', '      shell: bash');
    expect(runRule(jobGraphErrorRule, action, { path: '.github/actions/a/action.yml' })).toEqual([expect.objectContaining({ line: 9, message: containing('in this action') })]);
  });

  it('stays silent on a valid graph, case-insensitive needs and the same step id in different jobs', () => {
    const findings = runRule(
      jobGraphErrorRule,
      lines('on: push', 'jobs:', '  Build:', '    runs-on: ubuntu-24.04', '    steps:', '      - id: x', '        run: a', '  test:', '    needs: build', '    runs-on: ubuntu-24.04', '    steps:', '      - id: x', '        run: b', '  publish:', '    needs: [Build, test]', ...jobBody),
    );
    expect(findings).toEqual([]);
  });
});
