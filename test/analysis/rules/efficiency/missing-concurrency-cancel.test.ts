import { missingConcurrencyCancelRule } from '../../../../src/analysis/rules/efficiency/missing-concurrency-cancel';
import { runRule } from '../../../support/analysis';

const job = `jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
`;

describe('missing-concurrency-cancel', () => {
  it('reports a pull_request workflow without concurrency at the trigger', () => {
    const findings = runRule(missingConcurrencyCancelRule, `on: [push, pull_request]\n${job}`);
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 1, column: 12, endLine: 1, endColumn: 24 })]);
    expect(findings[0]?.message).toContain('without a `concurrency` group');
  });

  it('reports a workflow-level group without cancel-in-progress at the concurrency key', () => {
    const findings = runRule(
      missingConcurrencyCancelRule,
      `on:
  pull_request:
    branches: [main]
concurrency: ci-\${{ github.ref }}
${job}`,
    );
    expect(findings).toEqual([expect.objectContaining({ line: 4, column: 1, endLine: 4, endColumn: 12 })]);
    expect(findings[0]?.message).toContain('has no `cancel-in-progress`');
  });

  it('reports when only some jobs cancel superseded runs', () => {
    const findings = runRule(
      missingConcurrencyCancelRule,
      `on:
  pull_request:
jobs:
  a:
    runs-on: ubuntu-latest
    concurrency:
      group: a-\${{ github.ref }}
      cancel-in-progress: true
    steps:
      - run: make a
  b:
    runs-on: ubuntu-latest
    steps:
      - run: make b
`,
    );
    expect(findings.map((f) => [f.line, f.column])).toEqual([[2, 3]]);
  });

  it.each([
    ['a cancelling workflow-level group', `on: pull_request\nconcurrency:\n  group: x-\${{ github.ref }}\n  cancel-in-progress: true\n${job}`],
    ['a deliberate cancel-in-progress: false', `on: pull_request\nconcurrency:\n  group: x\n  cancel-in-progress: false\n${job}`],
    ['an expression for cancel-in-progress', `on: pull_request\nconcurrency:\n  group: x\n  cancel-in-progress: \${{ github.event_name == 'pull_request' }}\n${job}`],
    ['pull_request types without synchronize', `on:\n  pull_request:\n    types: [labeled, closed]\n${job}`],
    ['no pull_request trigger', `on:\n  push:\n  pull_request_target:\n${job}`],
    ['a publishing workflow that queues with a group', `on: [push, pull_request]\nconcurrency: deploy\njobs:\n  docs:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: peaceiris/actions-gh-pages@v4\n`],
    [
      'every job cancelling on its own',
      `on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    concurrency:\n      group: a-\${{ github.ref }}\n      cancel-in-progress: true\n    steps:\n      - run: make a\n`,
    ],
  ])('stays silent for %s', (_name, text) => {
    expect(runRule(missingConcurrencyCancelRule, text)).toEqual([]);
  });

  it('reports pull_request types that include synchronize', () => {
    const findings = runRule(missingConcurrencyCancelRule, `on:\n  pull_request:\n    types: [opened, synchronize]\n${job}`);
    expect(findings).toHaveLength(1);
  });
});
