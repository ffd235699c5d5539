import { alwaysTrueIfRule } from '../../../../../src/analysis/rules/security/always-true-if';
import { dangerousTriggerRule } from '../../../../../src/analysis/rules/security/dangerous-trigger';
import { envFileInjectionRule } from '../../../../../src/analysis/rules/security/env-file-injection';
import { scriptInjectionRule } from '../../../../../src/analysis/rules/security/script-injection';
import { selfHostedRunnerOnPrRule } from '../../../../../src/analysis/rules/security/self-hosted-runner-on-pr';
import { spoofableBotCheckRule } from '../../../../../src/analysis/rules/security/spoofable-bot-check';
import { fileCommandWrites, envNameFor } from '../../../../../src/analysis/rules/security/support/untrusted-flow';
import { untrustedCheckoutRule } from '../../../../../src/analysis/rules/security/untrusted-checkout';
import { runRule } from '../../../../support/analysis';

const rules = [
  alwaysTrueIfRule,
  dangerousTriggerRule,
  envFileInjectionRule,
  scriptInjectionRule,
  selfHostedRunnerOnPrRule,
  spoofableBotCheckRule,
  untrustedCheckoutRule,
];

describe('untrusted-flow', () => {
  it('finds writes to the file commands in their shell spellings, with here-documents and groups', () => {
    const script = [
      'echo "A=1" >> $GITHUB_ENV',
      'echo "$HOME/bin" | tee -a "${GITHUB_PATH}"',
      '"B=2" | Out-File -FilePath $env:GITHUB_ENV -Append',
      'cat $GITHUB_ENV',
      'cat <<EOF >> "$GITHUB_OUTPUT"',
      'x=1',
      'EOF',
      '{',
      '  echo "C=3"',
      '} >> "$GITHUB_ENV"',
      'echo "D<<EOF" >> $GITHUB_ENV',
    ].join('\n');
    expect(fileCommandWrites(script).map((write) => [write.target, write.content.split('\n').length, write.literalBody])).toEqual([
      ['GITHUB_ENV', 1, false],
      ['GITHUB_PATH', 1, false],
      ['GITHUB_ENV', 1, false],
      ['GITHUB_OUTPUT', 2, false],
      ['GITHUB_ENV', 3, false],
      ['GITHUB_ENV', 1, false],
    ]);
  });

  it('derives readable env var names', () => {
    expect(envNameFor('github.event.issue.title')).toBe('ISSUE_TITLE');
    expect(envNameFor('github.event.pull_request.head.ref')).toBe('HEAD_REF');
    expect(envNameFor('github.event.commits.*.message')).toBe('COMMITS_MESSAGE');
    expect(envNameFor('steps.meta.outputs.title')).toBe('META_TITLE');
  });

  it.each([
    ['empty document', ''],
    ['scalar document', 'just text'],
    ['scalar jobs and steps', 'on: pull_request_target\njobs: nope\n'],
    ['steps as expression', 'on: [pull_request_target, issues]\njobs:\n  a:\n    runs-on: ${{ fromJSON(x) }}\n    steps: ${{ fromJSON(y) }}\n'],
    ['odd step shapes', 'on: issues\njobs:\n  a:\n    if: [1, 2]\n    runs-on: {labels: {a: 1}}\n    env: [x]\n    steps:\n      - 1\n      - run: [echo]\n      - uses: actions/checkout@v4\n        with: scalar\n      - if: ${{ \n        run: echo "${{ github.event.issue.title"\n'],
    ['anchors and aliases', 'on:\n  pull_request_target: &t {}\n  workflow_run: *t\njobs:\n  a: &job\n    runs-on: self-hosted\n    steps:\n      - &s {run: \'echo "${{ github.head_ref }}" >> $GITHUB_ENV\', if: "github.actor == \'x[bot]\'"}\n      - *s\n  b: *job\n'],
    ['matrix as expression', 'on: pull_request\njobs:\n  a:\n    strategy:\n      matrix: ${{ fromJSON(needs.x.outputs.m) }}\n    runs-on: ${{ matrix.os }}\n    steps: []\n'],
  ])('never throws on %s', (_name, text) => {
    for (const rule of rules) expect(() => runRule(rule, text)).not.toThrow();
  });
});
