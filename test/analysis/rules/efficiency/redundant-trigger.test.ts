import { redundantTriggerRule } from '../../../../src/analysis/rules/efficiency/redundant-trigger';
import { runRule } from '../../../support/analysis';

const job = `jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
`;

describe('redundant-trigger', () => {
  it('reports `on: [push, pull_request]` at the push trigger', () => {
    const findings = runRule(redundantTriggerRule, `on: [push, pull_request]\n${job}`);
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 1, column: 6, endLine: 1, endColumn: 10 })]);
    expect(findings[0]?.message).toBe(
      '`push` has no branch filter and `pull_request` is also a trigger, so every commit pushed to a pull request branch of this repository runs the workflow twice',
    );
  });

  it.each([
    ['a `**` branch pattern', `on:\n  push:\n    branches: ['**', '!dependabot/**']\n  pull_request:\n${job}`, 'matches every branch (`**`)'],
    ['branches-ignore', `on:\n  push:\n    branches-ignore: [main]\n  pull_request:\n${job}`, 'only ignores some branches'],
    ['identical path filters', `on:\n  push:\n    paths: [src/**, go.mod]\n  pull_request:\n    paths: [go.mod, src/**]\n${job}`, 'has no branch filter'],
    ['a `*` branch pattern next to tags', `on:\n  push:\n    branches: ['*']\n    tags: ['v*']\n  pull_request:\n${job}`, 'matches every branch (`*`)'],
  ])('reports push with %s', (_name, text, reason) => {
    const findings = runRule(redundantTriggerRule, text);
    expect(findings.map((f) => [f.line, f.column])).toEqual([[2, 3]]);
    expect(findings[0]?.message).toContain(reason);
  });

  it.each([
    ['the standard push-to-main pattern', `on:\n  push:\n    branches: [main]\n  pull_request:\n    branches: [main]\n${job}`],
    ['release branch patterns', `on:\n  push:\n    branches: [main, 'release/**']\n  pull_request:\n${job}`],
    ['a tags-only push', `on:\n  push:\n    tags: ['v*']\n  pull_request:\n${job}`],
    ['different path filters', `on:\n  push:\n    paths: [docs/**]\n  pull_request:\n    paths: [src/**]\n${job}`],
    ['a path filter on one side only', `on:\n  push:\n  pull_request:\n    paths-ignore: [docs/**]\n${job}`],
    ['pull_request types that ignore new commits', `on:\n  push:\n  pull_request:\n    types: [labeled]\n${job}`],
    ['push without pull_request', `on: [push, workflow_dispatch]\n${job}`],
    [
      'jobs that skip pull requests from this repository',
      `on: [push, pull_request]\njobs:\n  test:\n    if: github.event_name == 'push' || github.event.pull_request.head.repo.full_name != github.repository\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n`,
    ],
    [
      'a concurrency group shared by both events',
      `on: [push, pull_request]\nconcurrency:\n  group: ci-\${{ github.head_ref || github.ref_name }}\n  cancel-in-progress: true\n${job}`,
    ],
  ])('stays silent for %s', (_name, text) => {
    expect(runRule(redundantTriggerRule, text)).toEqual([]);
  });
});
