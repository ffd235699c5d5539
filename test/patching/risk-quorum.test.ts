/**
 * The quorum rules on real diffs: each case commits its files to a real git repository, writes the patched files,
 * takes `git diff` as the patch and computes the quorum the way patch creation does (the branch read with git, the
 * diff applied in memory). Hostile diffs and unreadable repositories are risky with a reason, never a crash.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ApprovalMinimums, Target } from '../../src/domain/types';
import { readTargetChanges } from '../../src/patching/patched-files';
import { type AppliedFixSafety, approvalSpec, requiredQuorum } from '../../src/patching/risk-quorum';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid', GIT_CONFIG_GLOBAL: '/dev/null' };
const CI = '.github/workflows/ci.yml';

function workflow(options: { on?: string; permissions?: string[]; job?: string[]; steps?: string[] } = {}): string {
  return [
    'name: ci',
    `on: ${options.on ?? 'push'}`,
    ...(options.permissions ?? ['permissions:', '  contents: read']),
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    ...(options.job ?? []),
    '    steps:',
    ...(options.steps ?? ['      - uses: actions/checkout@v4', '      - uses: some-org/setup-tool@v1', '      - run: make']),
    '',
  ].join('\n');
}

const BASE = workflow();
const WITH_TIMEOUT = workflow({ job: ['    timeout-minutes: 15'] });

type Files = Record<string, string | null>;

interface QuorumCase {
  name: string;
  before: Files;
  after?: Files;
  /** A hand-written diff instead of `git diff` of before and after. */
  diff?: string;
  fixes?: AppliedFixSafety['safety'][];
  requested?: number;
  policy?: ApprovalMinimums;
  /** The repository cannot be read. */
  unreachable?: boolean;
  quorum: number;
  reason: RegExp;
}

const CASES: QuorumCase[] = [
  { name: 'all fixes safe', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, fixes: ['safe', 'safe'], quorum: 1, reason: /no risky change: all 2 fixes are safe/ },
  { name: 'an unsafe fix', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, fixes: ['safe', 'unsafe'], quorum: 2, reason: /repo: the fix "Add a timeout" \(missing-job-timeout\) in \.github\/workflows\/ci\.yml is unsafe/ },
  { name: 'a hand-written diff with nothing risky', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, quorum: 1, reason: /^no risky change: the patch changes no permissions/ },
  { name: 'permissions added to a job', before: { [CI]: BASE }, after: { [CI]: workflow({ job: ['    permissions: {}'] }) }, quorum: 2, reason: /ci\.yml changes permissions of job build \(from no permissions block .* to \{\}\)/ },
  { name: 'a workflow-level permissions block added', before: { [CI]: workflow({ permissions: [] }) }, after: { [CI]: BASE }, quorum: 2, reason: /changes permissions at workflow level \(from no permissions block .* to contents: read\)/ },
  { name: 'contents: read changed to write', before: { [CI]: BASE }, after: { [CI]: workflow({ permissions: ['permissions:', '  contents: write'] }) }, quorum: 2, reason: /from contents: read to contents: write/ },
  { name: 'a permissions block removed', before: { [CI]: BASE }, after: { [CI]: workflow({ permissions: [] }) }, quorum: 2, reason: /changes permissions at workflow level \(from contents: read to no permissions block/ },
  {
    name: 'permission scopes only reordered',
    before: { [CI]: workflow({ permissions: ['permissions:', '  contents: read', '  issues: read'] }) },
    after: { [CI]: workflow({ permissions: ['permissions:', '  issues: read', '  contents: read'] }) },
    quorum: 1,
    reason: /no risky change/,
  },
  {
    name: 'a third-party action added',
    before: { [CI]: BASE },
    after: { [CI]: workflow({ steps: ['      - uses: actions/checkout@v4', '      - uses: some-org/setup-tool@v1', '      - uses: other-org/lint@v2', '      - run: make'] }) },
    quorum: 2,
    reason: /ci\.yml adds the third-party action other-org\/lint@v2/,
  },
  {
    name: "a third-party action's ref bumped",
    before: { [CI]: BASE },
    after: { [CI]: BASE.replace('some-org/setup-tool@v1', 'some-org/setup-tool@v2') },
    quorum: 2,
    reason: /changes the third-party action some-org\/setup-tool@v1 to some-org\/setup-tool@v2/,
  },
  { name: 'only actions/checkout bumped (first-party)', before: { [CI]: BASE }, after: { [CI]: BASE.replace('actions/checkout@v4', 'actions/checkout@v5') }, quorum: 1, reason: /no risky change/ },
  {
    name: 'a github-owned action added (first-party)',
    before: { [CI]: BASE },
    after: { [CI]: workflow({ steps: ['      - uses: actions/checkout@v4', '      - uses: some-org/setup-tool@v1', '      - uses: github/codeql-action/init@v3', '      - run: make'] }) },
    quorum: 1,
    reason: /no risky change/,
  },
  {
    name: 'a local action added (first-party)',
    before: { [CI]: BASE },
    after: { [CI]: workflow({ steps: ['      - uses: actions/checkout@v4', '      - uses: some-org/setup-tool@v1', '      - uses: ./.github/actions/build', '      - run: make'] }) },
    quorum: 1,
    reason: /no risky change/,
  },
  {
    name: 'a docker action added',
    before: { [CI]: BASE },
    after: { [CI]: workflow({ steps: ['      - uses: actions/checkout@v4', '      - uses: some-org/setup-tool@v1', '      - uses: docker://alpine:3.20', '      - run: make'] }) },
    quorum: 2,
    reason: /adds the third-party image docker:\/\/alpine:3\.20/,
  },
  { name: 'a job container image changed', before: { [CI]: workflow({ job: ['    container: node:18'] }) }, after: { [CI]: workflow({ job: ['    container: node:20'] }) }, quorum: 2, reason: /changes the third-party image node:18 to node:20/ },
  {
    name: 'a reusable workflow of another owner added',
    before: { [CI]: BASE },
    after: { [CI]: `${BASE}  shared:\n    uses: other-org/workflows/.github/workflows/lint.yml@v1\n` },
    quorum: 2,
    reason: /adds the third-party reusable workflow other-org\/workflows\/\.github\/workflows\/lint\.yml@v1/,
  },
  {
    name: 'a third-party action added to a composite action',
    before: { '.github/actions/build/action.yml': 'name: build\nruns:\n  using: composite\n  steps:\n    - run: make\n      shell: bash\n' },
    after: { '.github/actions/build/action.yml': 'name: build\nruns:\n  using: composite\n  steps:\n    - uses: other-org/cache@v4\n    - run: make\n      shell: bash\n' },
    quorum: 2,
    reason: /action\.yml adds the third-party action other-org\/cache@v4/,
  },
  { name: 'a pull_request_target workflow touched', before: { [CI]: workflow({ on: 'pull_request_target' }) }, after: { [CI]: workflow({ on: 'pull_request_target', job: ['    timeout-minutes: 15'] }) }, quorum: 2, reason: /ci\.yml is a workflow triggered by pull_request_target/ },
  {
    name: 'a workflow_run workflow touched',
    before: { [CI]: workflow({ on: '\n  workflow_run:\n    workflows: [build]' }) },
    after: { [CI]: workflow({ on: '\n  workflow_run:\n    workflows: [build]', job: ['    timeout-minutes: 15'] }) },
    quorum: 2,
    reason: /triggered by workflow_run/,
  },
  { name: 'a new workflow triggered by pull_request_target', before: { [CI]: BASE }, after: { '.github/workflows/triage.yml': workflow({ on: '[pull_request_target]', steps: ['      - run: echo hi'] }) }, quorum: 2, reason: /triage\.yml is a workflow triggered by pull_request_target/ },
  { name: 'policy minimums raise a risky patch to 3', before: { [CI]: BASE }, after: { [CI]: workflow({ permissions: ['permissions:', '  contents: write'] }) }, policy: { minimumRisky: 3 }, quorum: 3, reason: /the policy requires 3 approvals for a risky patch/ },
  { name: 'policy minimums raise a safe patch to 3', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, policy: { minimumSafe: 3 }, quorum: 3, reason: /the policy requires 3 approvals for a safe patch/ },
  { name: 'a policy cannot lower the defaults', before: { [CI]: BASE }, after: { [CI]: workflow({ permissions: [] }) }, policy: { minimumSafe: 0, minimumRisky: 1 }, quorum: 2, reason: /changes permissions/ },
  { name: 'a requested 3 with all fixes safe', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, fixes: ['safe'], requested: 3, quorum: 3, reason: /the request asks for 3 approvals/ },
  { name: 'a requested 1 does not lower a risky patch', before: { [CI]: BASE }, after: { [CI]: workflow({ permissions: [] }) }, requested: 1, quorum: 2, reason: /changes permissions/ },
  // Hostile and unreadable patches.
  { name: 'a diff that does not parse', before: { [CI]: BASE }, diff: 'this is not a diff\n', quorum: 2, reason: /repo: the diff cannot be read \(invalid diff: line 1: the diff changes no file\), so the patch's risk is unknown/ },
  { name: 'a diff with a broken hunk', before: { [CI]: BASE }, diff: `--- a/${CI}\n+++ b/${CI}\n@@ garbage\n`, quorum: 2, reason: /the diff cannot be read/ },
  { name: 'a diff touching a file that is not a workflow', before: { [CI]: BASE, 'README.md': 'hi\n' }, after: { 'README.md': 'hello\n' }, quorum: 2, reason: /README\.md is not a CI workflow or action file/ },
  { name: 'a workflow under a sub-folder (not loaded by GitHub)', before: { [CI]: BASE }, after: { '.github/workflows/old/ci.yml': BASE }, quorum: 2, reason: /old\/ci\.yml is not a CI workflow or action file/ },
  { name: 'YAML that does not parse after the patch', before: { [CI]: BASE }, after: { [CI]: `${BASE}  broken: [unclosed\n` }, quorum: 2, reason: /ci\.yml does not parse as YAML after the patch/ },
  { name: 'YAML that did not parse before the patch', before: { [CI]: `${BASE}  broken: [unclosed\n` }, after: { [CI]: BASE }, quorum: 2, reason: /did not parse as YAML before the patch/ },
  { name: 'a workflow deleted', before: { [CI]: BASE }, after: { [CI]: null }, quorum: 2, reason: /ci\.yml is deleted/ },
  {
    name: 'a diff that does not apply to the branch',
    before: { [CI]: BASE },
    diff: [`diff --git a/${CI} b/${CI}`, `--- a/${CI}`, `+++ b/${CI}`, '@@ -1,2 +1,2 @@', '-name: something else', '+name: ci2', ' on: push', ''].join('\n'),
    quorum: 2,
    reason: /the diff does not apply to \.github\/workflows\/ci\.yml/,
  },
  { name: 'a diff of a file missing on the branch', before: { 'README.md': 'hi\n' }, diff: [`--- a/${CI}`, `+++ b/${CI}`, '@@ -1 +1 @@', '-a', '+b', ''].join('\n'), quorum: 2, reason: /changes \.github\/workflows\/ci\.yml, which is not a text file on the branch/ },
  { name: 'a repository that cannot be read', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, unreachable: true, quorum: 2, reason: /repo: its branch main could not be read \(.+\), so the patch's risk is unknown/ },
];

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' });
}

function write(dir: string, files: Files): void {
  for (const [file, text] of Object.entries(files)) {
    const full = path.join(dir, file);
    if (text === null) {
      rmSync(full);
      continue;
    }
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
}

describe('the quorum a patch requires', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'wpa-risk-quorum-'));
  const env = { workRoot: path.join(root, 'work'), git: { repoUrlPolicy: { allowLocal: true } } };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A repository with `before` committed on main, and the diff to `after` (or the case's own diff). */
  function repositoryAndDiff(testCase: QuorumCase, index: number): { repo: string; diff: string } {
    const repo = path.join(root, `repo-${index}`);
    mkdirSync(repo);
    git(repo, ['init', '-q', '-b', 'main']);
    write(repo, testCase.before);
    git(repo, ['add', '-A']);
    git(repo, ['commit', '-q', '-m', 'before']);
    if (testCase.diff !== undefined) return { repo, diff: testCase.diff };
    write(repo, testCase.after ?? {});
    git(repo, ['add', '-A']);
    return { repo, diff: git(repo, ['diff', '--cached', '--no-ext-diff', '--no-color']) };
  }

  test.each(CASES.map((testCase, index) => [testCase.name, testCase, index] as const))('%s', async (_name, testCase, index) => {
    const { repo, diff } = repositoryAndDiff(testCase, index);
    const target = { name: 'org/repo', repoUrl: testCase.unreachable ? path.join(root, 'missing.git') : repo, branch: 'main' } as Target;
    const [changes] = await readTargetChanges([target], diff, env);
    const fixes = testCase.fixes?.map((safety) => ({ ruleId: 'missing-job-timeout', file: CI, fix: 'Add a timeout', safety }));
    const required = requiredQuorum({ targets: [{ ...changes!, ...(fixes ? { fixes } : {}) }], requested: testCase.requested ?? 1, ...(testCase.policy ? { policy: testCase.policy } : {}) });
    expect(required.quorum).toBe(testCase.quorum);
    expect(required.reasons).toEqual(expect.arrayContaining([expect.stringMatching(testCase.reason)]));
    expect(required.distinctGroups).toBe(false);
  });

  test('every target is judged: one risky target makes the patch risky, each reason names its target', async () => {
    const safe = repositoryAndDiff({ name: 'safe', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, quorum: 1, reason: /./ }, 100);
    const risky = path.join(root, 'repo-101');
    mkdirSync(risky);
    git(risky, ['init', '-q', '-b', 'main']);
    write(risky, { [CI]: workflow({ on: 'pull_request_target' }) });
    git(risky, ['add', '-A']);
    git(risky, ['commit', '-q', '-m', 'before']);
    const targets = [
      { name: 'org/plain', repoUrl: safe.repo, branch: 'main' },
      { name: 'org/privileged', repoUrl: risky, branch: 'main' },
    ] as Target[];
    const changes = await readTargetChanges(targets, safe.diff, env);
    const required = requiredQuorum({ targets: changes, requested: 1 });
    expect(required).toEqual({ quorum: 2, reasons: [expect.stringMatching(/^org\/privileged: \.github\/workflows\/ci\.yml is a workflow triggered by pull_request_target/)], distinctGroups: false });
  });

  test('the branch is read, not a tag of the same name (a bare name would fetch the tag first)', async () => {
    const { repo, diff } = repositoryAndDiff({ name: 'tagged', before: { [CI]: BASE }, after: { [CI]: WITH_TIMEOUT }, quorum: 1, reason: /./ }, 102);
    // The tag holds a privileged workflow; the branch, which the patch lands on, does not.
    git(repo, ['checkout', '-q', '-b', 'tagged-side']);
    write(repo, { [CI]: workflow({ on: 'pull_request_target' }) });
    git(repo, ['commit', '-q', '-am', 'privileged']);
    git(repo, ['tag', 'main']);
    git(repo, ['checkout', '-q', 'main']);
    const [changes] = await readTargetChanges([{ name: 'org/tagged', repoUrl: repo, branch: 'main' } as Target], diff, env);
    expect(changes?.files).toEqual([{ path: CI, before: BASE, after: WITH_TIMEOUT }]);
  });

  test('hundreds of risky targets: the reasons are bounded', () => {
    const targets = Array.from({ length: 300 }, (_, index) => ({ target: `org/repo-${index}`, files: { unreadable: 'its branch main could not be read' } }));
    const { quorum, reasons } = requiredQuorum({ targets, requested: 1 });
    expect(quorum).toBe(2);
    expect(reasons).toHaveLength(20);
    expect(reasons.at(-1)).toBe('and 281 more risky changes');
  });

  test('the approval spec keeps the request, the required quorum and why; distinct groups when asked by the request or the policy', () => {
    const unsafe = [{ target: 'org/a', files: [], fixes: [{ ruleId: 'missing-job-timeout', file: CI, fix: 'Add a timeout', safety: 'unsafe' as const }] }];
    expect(approvalSpec({ quorum: 1, timeoutSeconds: 600 }, unsafe)).toEqual({ quorum: 2, timeoutSeconds: 600, requestedQuorum: 1, reasons: [expect.stringContaining('is unsafe')] });
    expect(approvalSpec({ quorum: 1, timeoutSeconds: 600, distinctGroups: true }, unsafe)).toMatchObject({ quorum: 2, distinctGroups: true });
    expect(approvalSpec({ quorum: 1, timeoutSeconds: 600 }, unsafe, { distinctGroups: true })).toMatchObject({ distinctGroups: true });
    expect(approvalSpec({ quorum: 1, timeoutSeconds: 600, distinctGroups: false }, [])).not.toHaveProperty('distinctGroups');
  });
});
