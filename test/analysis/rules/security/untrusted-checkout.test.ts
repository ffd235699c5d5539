import { untrustedCheckoutRule } from '../../../../src/analysis/rules/security/untrusted-checkout';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

const checkoutJob = (trigger: string, uses: string, withLines: string[], after: string[] = ['      - run: npm ci && npm test']): string =>
  lines(
    `on: ${trigger}`,
    'jobs:',
    '  test:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    `      - uses: ${uses}`,
    '        with:',
    ...withLines.map((line) => `          ${line}`),
    ...after,
  );

describe('untrusted-checkout', () => {
  it('is critical when a later step runs the checked-out head, pointing at the ref', () => {
    const findings = runRule(
      untrustedCheckoutRule,
      checkoutJob('pull_request_target', 'actions/checkout@v4.2.2', ['ref: ${{ github.event.pull_request.head.sha }}']),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'critical', line: 8, column: 16, endLine: 8, endColumn: 57 })]);
    expect(findings[0]?.message).toContain('step `npm ci && npm test`');
  });

  it('is high when nothing runs afterwards, and covers the fork repository and refs/pull', () => {
    const fork = checkoutJob(
      'workflow_run',
      'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2',
      ['repository: ${{ github.event.workflow_run.head_repository.full_name }}'],
      ['      - uses: actions/upload-artifact@v4'],
    );
    expect(runRule(untrustedCheckoutRule, fork)).toEqual([expect.objectContaining({ severity: 'high', line: 8 })]);
    const merge = checkoutJob('pull_request_target', 'actions/checkout@v7', [
      'ref: refs/pull/${{ github.event.pull_request.number }}/merge',
      'allow-unsafe-pr-checkout: true',
    ]);
    expect(runRule(untrustedCheckoutRule, merge)).toEqual([expect.objectContaining({ severity: 'critical' })]);
  });

  it('still reports versions with the unverified checkout fork guard, as high, naming the override', () => {
    const guarded = checkoutJob('pull_request_target', 'actions/checkout@v4', ['ref: ${{ github.event.pull_request.head.sha }}']);
    const findings = runRule(untrustedCheckoutRule, guarded);
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 8, column: 16, endLine: 8, endColumn: 57 })]);
    expect(findings[0]?.message).toContain('step `npm ci && npm test` then runs code in that checkout');
    expect(findings[0]?.message).toContain('unless `allow-unsafe-pr-checkout: true` is set, but that guard is unverified');
    const guardedPatch = checkoutJob('pull_request_target', 'actions/checkout@v4.4.0', ['ref: ${{ github.event.pull_request.head.sha }}']);
    expect(runRule(untrustedCheckoutRule, guardedPatch)).toEqual([expect.objectContaining({ severity: 'high' })]);
    const overridden = checkoutJob('pull_request_target', 'actions/checkout@v4', [
      'ref: ${{ github.event.pull_request.head.sha }}',
      'allow-unsafe-pr-checkout: true',
    ]);
    const critical = runRule(untrustedCheckoutRule, overridden);
    expect(critical).toEqual([expect.objectContaining({ severity: 'critical' })]);
    expect(critical[0]?.message).not.toContain('unverified');
    // The guard never covered issue_comment, so a guarded version stays critical there.
    const comment = checkoutJob('issue_comment', 'actions/checkout@v4', ['ref: refs/pull/${{ github.event.issue.number }}/head']);
    expect(runRule(untrustedCheckoutRule, comment)).toEqual([expect.objectContaining({ severity: 'critical' })]);
  });

  it('skips base code, branch-only refs, unprivileged triggers and same-repository jobs', () => {
    const branchOnly = checkoutJob('pull_request_target', 'actions/checkout@v4.2.2', ['ref: ${{ github.head_ref }}']);
    expect(runRule(untrustedCheckoutRule, branchOnly)).toEqual([]);
    const base = checkoutJob('pull_request_target', 'actions/checkout@v4.2.2', ['ref: ${{ github.base_ref }}']);
    expect(runRule(untrustedCheckoutRule, base)).toEqual([]);
    const unprivileged = checkoutJob('pull_request', 'actions/checkout@v4.2.2', ['ref: ${{ github.event.pull_request.head.sha }}']);
    expect(runRule(untrustedCheckoutRule, unprivileged)).toEqual([]);
    const sameRepository = checkoutJob('pull_request_target', 'actions/checkout@v4.2.2', ['ref: ${{ github.event.pull_request.head.sha }}']).replace(
      '    runs-on: ubuntu-latest',
      '    if: github.event.pull_request.head.repo.full_name == github.repository\n    runs-on: ubuntu-latest',
    );
    expect(runRule(untrustedCheckoutRule, sameRepository)).toEqual([]);
  });

  it('finds gh and git checkouts in scripts but not a fetch used only for diffing', () => {
    const text = lines(
      'on: issue_comment',
      'jobs:',
      '  test:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - run: |',
      '          git fetch origin refs/pull/${{ github.event.issue.number }}/head:pr',
      '          git diff main..pr --stat',
      '      - run: |',
      '          gh pr checkout ${{ github.event.issue.number }}',
      '          make test',
    );
    expect(runRule(untrustedCheckoutRule, text)).toEqual([
      expect.objectContaining({ severity: 'critical', line: 11, column: 11, endLine: 11, endColumn: 58 }),
    ]);
    expect(runRule(untrustedCheckoutRule, text.replace('          make test\n', ''))).toEqual([expect.objectContaining({ severity: 'high' })]);
  });

  it('only counts later steps that use a checkout placed in a sub-directory', () => {
    const text = checkoutJob(
      'pull_request_target',
      'actions/checkout@v4.2.2',
      ['ref: ${{ github.event.pull_request.head.sha }}', 'path: pr'],
      ['      - run: ./scripts/compare.sh', '      - run: make -C pr docs'],
    );
    const findings = runRule(untrustedCheckoutRule, text);
    expect(findings).toEqual([expect.objectContaining({ severity: 'critical' })]);
    expect(findings[0]?.message).toContain('step `make -C pr docs`');
    expect(runRule(untrustedCheckoutRule, text.replace('      - run: make -C pr docs\n', ''))).toEqual([
      expect.objectContaining({ severity: 'high' }),
    ]);
  });
});
