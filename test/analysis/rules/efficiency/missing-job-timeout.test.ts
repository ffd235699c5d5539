import { missingJobTimeoutRule } from '../../../../src/analysis/rules/efficiency/missing-job-timeout';
import { runRule } from '../../../support/analysis';

describe('missing-job-timeout', () => {
  it('reports a job with steps and no timeout at the job key', () => {
    const findings = runRule(
      missingJobTimeoutRule,
      `on: push
jobs:
  build-and-test:
    runs-on: ubuntu-latest
    steps:
      - run: make test
`,
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'low', line: 3, column: 3, endLine: 3, endColumn: 17 }),
    ]);
    expect(findings[0]?.message).toBe(
      'job `build-and-test` has no `timeout-minutes`, so a hung run lasts up to 360 minutes',
    );
  });

  it('raises the severity for macOS runners, named directly or through the matrix', () => {
    const findings = runRule(
      missingJobTimeoutRule,
      `on: push
jobs:
  mac:
    runs-on: macos-14
    steps:
      - run: xcodebuild test
  matrix:
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [ubuntu-latest, macos-latest]
    steps:
      - run: make test
  linux:
    runs-on: [self-hosted, linux]
    steps:
      - run: make test
`,
    );
    expect(findings.map((f) => [f.line, f.severity])).toEqual([
      [3, 'medium'],
      [7, 'medium'],
      [14, 'low'],
    ]);
    expect(findings[0]?.message).toContain('macOS');
  });

  it('stays silent for jobs with a timeout, reusable workflow calls and jobs whose every step has a timeout', () => {
    const findings = runRule(
      missingJobTimeoutRule,
      `on: push
jobs:
  bounded:
    runs-on: ubuntu-latest
    timeout-minutes: \${{ inputs.timeout }}
    steps:
      - run: make test
  called:
    uses: ./.github/workflows/reusable.yml
  step-bounded:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        timeout-minutes: 2
      - run: make test
        timeout-minutes: 20
`,
    );
    expect(findings).toEqual([]);
  });

  it('still reports a job when only some steps have a timeout', () => {
    const findings = runRule(
      missingJobTimeoutRule,
      `on: push
jobs:
  partly:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        timeout-minutes: 2
      - run: make test
`,
    );
    expect(findings.map((f) => f.line)).toEqual([3]);
  });

  it('does not throw on odd shapes', () => {
    for (const text of ['on: push\njobs: nope\n', 'on: push\njobs:\n  a: 1\n  b:\n    steps: scalar\n', '', '- a\n']) {
      expect(() => runRule(missingJobTimeoutRule, text)).not.toThrow();
    }
  });
});
