/**
 * The knowledge-based fixes together on one repository: what safe-only and unsafe runs change, that no finding of
 * medium severity or worse appears, and the notes of findings that stay unfixed.
 */
import { repositoryFromFiles } from '../../src/analysis/discover';
import { allRules } from '../../src/analysis/rules';
import { fixRepository } from '../../src/fixes/fix-repository';

const CI = '.github/workflows/ci.yml';
const KNOWLEDGE_RULES = [
  'missing-permissions',
  'missing-dependency-cache',
  'retired-action-version',
  'outdated-action-runtime',
  'retired-runner-label',
  'unpinned-image',
];

const workflow = [
  'name: CI',
  'on:',
  '  pull_request:',
  '',
  'jobs:',
  '  test:',
  '    runs-on: ubuntu-20.04',
  '    timeout-minutes: 20',
  '    container: node:18.13.0',
  '    steps:',
  '      - uses: actions/checkout@v3',
  '        with:',
  '          persist-credentials: false',
  '      - uses: actions/setup-node@v4',
  '        with:',
  '          node-version: 18',
  '      - run: npm ci && npm test',
  '      - uses: actions/upload-artifact@v3',
  '        with:',
  '          name: report',
  '          path: report/',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    timeout-minutes: 20',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '        with:',
  '          persist-credentials: false',
  '      - uses: actions/cache@v3.2.0',
  '        with:',
  '          path: .build',
  '          key: build-${{ hashFiles(\'src/**\') }}',
  '      - run: make build',
  '',
].join('\n');

function view(text: string) {
  return repositoryFromFiles(new Map([[CI, text], ['package-lock.json', '{}']]));
}

describe('knowledge-based fixes on one workflow', () => {
  it('applies only the safe ones by default, and brings no new finding of medium severity or worse', async () => {
    const outcome = await fixRepository(view(workflow), { rules: allRules, ruleIds: KNOWLEDGE_RULES });
    expect(outcome.applied.every(({ safety }) => safety === 'safe')).toBe(true);
    expect(outcome.applied.map(({ finding }) => finding.ruleId).sort()).toEqual([
      'missing-dependency-cache',
      'missing-permissions',
      'retired-action-version',
      'unpinned-image',
    ]);
    expect(outcome.introduced).toEqual([]);
    const after = outcome.files[0]?.after ?? '';
    expect(after).toContain('permissions:\n  contents: read  # actions/checkout\n\njobs:');
    expect(after).toContain('      - uses: actions/cache@v4\n');
    expect(after).toContain('      - uses: actions/upload-artifact@v3\n');
    expect(after).toContain('          cache: npm\n');
    expect(after).toContain('    container: node:18.13.0@sha256:d871edd5b68105ebcbfcde3fe8c79d24cbdbb30430d9bd6251c57c56c7bd7646\n');
  });

  it('with unsafe fixes also moves runner and action versions, and leaves no fixable finding of these rules', async () => {
    const outcome = await fixRepository(view(workflow), { rules: allRules, unsafe: true });
    expect(outcome.introduced).toEqual([]);
    const after = outcome.files[0]?.after ?? '';
    expect(after).toContain('    runs-on: ubuntu-24.04\n');
    expect(after).toContain('      - uses: actions/checkout@v4\n');
    expect(after).toContain('      - uses: actions/upload-artifact@v4\n');
    expect(outcome.remaining.filter((finding) => KNOWLEDGE_RULES.includes(finding.ruleId) && finding.fixable)).toEqual([]);
  });

  it('says why a finding stays unfixed', async () => {
    const text = [
      'on: push',
      'jobs:',
      '  label:',
      '    runs-on: ubuntu-latest',
      '    services:',
      '      redis:',
      '        image: redis:7.4',
      '    steps:',
      '      - name: Label it',
      '        uses: actions/github-script@v7',
      '        with:',
      '          script: return 1',
      '',
    ].join('\n');
    const outcome = await fixRepository(view(text), { rules: allRules, ruleIds: KNOWLEDGE_RULES, unsafe: true });
    expect(outcome.files).toEqual([]);
    expect(Object.fromEntries(outcome.unfixable.map(({ finding, reason }) => [finding.ruleId, reason]))).toEqual({
      'missing-permissions': 'no `permissions:` added: step `Label it` uses actions/github-script: its script may call any API (job `label`)',
      'unpinned-image': 'no known digest for `redis:7.4`; pin it by hand or let Dependabot or Renovate do it',
    });
  });
});

describe('missing-permissions notes', () => {
  it.each([
    [
      'steps through an alias',
      ['on: push', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    steps: &s', '      - uses: actions/checkout@v4', '  b:', '    runs-on: ubuntu-latest', '    steps: *s'],
      'no `permissions:` added: job `b` takes steps through YAML aliases or merge keys, which are not followed',
    ],
    [
      'an action missing from the table',
      ['on: push', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: someone/notify-action@v1'],
      'no `permissions:` added: step `#1` uses someone/notify-action, whose token needs are not in the table (job `a`)',
    ],
    [
      'a git push',
      ['on: push', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    steps:', '      - uses: actions/checkout@v4', '      - name: Push', '        run: git push origin HEAD:gh-pages'],
      'no `permissions:` added: step `Push` runs `git push`, whose needs depend on its arguments (job `a`)',
    ],
    [
      'the token in the job env',
      ['on: push', 'jobs:', '  a:', '    runs-on: ubuntu-latest', '    env:', '      TOKEN: ${{ secrets.GITHUB_TOKEN }}', '    steps:', '      - run: ./release.sh'],
      'no `permissions:` added: job `a` hands the job token to every script through `env:`',
    ],
  ])('names what is unknown: %s', async (_case, lines, note) => {
    const outcome = await fixRepository(view([...lines, ''].join('\n')), { rules: allRules, ruleIds: ['missing-permissions'] });
    expect(outcome.files).toEqual([]);
    expect(outcome.unfixable.map(({ reason }) => reason)).toEqual([note]);
  });
});
