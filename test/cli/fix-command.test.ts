/**
 * `wpa fix` in-process through main(argv, io) on a temporary git repository: the printed diff is what `git apply`
 * accepts from the repository root, and --write writes the same result. Action refs resolve against a local bare
 * actions/checkout (ACTIONS_GIT_BASE_URL), so pinning runs offline.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../src/cli/common';
import { main } from '../../src/cli/wpa';

const WORKFLOW = [
  'name: CI',
  'on:',
  '  pull_request:',
  '  push:',
  '    branches: [main]',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest # linux',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '      - id: version',
  '        run: |',
  '          echo "::set-output name=version::$(cat VERSION)"',
  '',
].join('\n');

const ACTION = ['name: Setup', 'runs:', '  using: composite', '  steps:', '    - uses: actions/checkout@v4', '    - run: make', '      shell: bash', ''].join('\r\n');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where the fake action repositories live, and the commit actions/checkout@v4 (= v4.2.2) points at. */
let actionsBase: string;
let checkoutSha: string;

async function wpa(cwd: string, ...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const env = { ACTIONS_GIT_BASE_URL: actionsBase };
  const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, cwd, env };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function git(cwd: string, args: string[], input?: string): { status: number | null; stderr: string } {
  const result = spawnSync('git', args, { cwd, input, encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
  return { status: result.status, stderr: result.stderr };
}

beforeAll(() => {
  actionsBase = mkdtempSync(join(tmpdir(), 'wpa-fix-actions-'));
  const work = join(actionsBase, 'work');
  mkdirSync(work);
  const identity = ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid'];
  git(work, ['init', '-q']);
  git(work, [...identity, 'commit', '-q', '--allow-empty', '-m', 'release']);
  git(work, ['tag', 'v4']);
  git(work, [...identity, 'tag', '-a', 'v4.2.2', '-m', 'v4.2.2']);
  checkoutSha = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: work, encoding: 'utf8' }).stdout.trim();
  git(actionsBase, ['clone', '-q', '--bare', work, join('actions', 'checkout.git')]);
});
afterAll(() => rmSync(actionsBase, { recursive: true, force: true }));

describe('wpa fix', () => {
  let repo: string;
  const ciPath = () => join(repo, '.github/workflows/ci.yml');
  const actionPath = () => join(repo, '.github/actions/setup/action.yml');

  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'wpa-fix-'));
    mkdirSync(join(repo, '.github/workflows'), { recursive: true });
    mkdirSync(join(repo, '.github/actions/setup'), { recursive: true });
    writeFileSync(ciPath(), WORKFLOW);
    writeFileSync(actionPath(), ACTION);
    git(repo, ['init', '-q']);
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  test('prints a diff that git apply accepts from the repository root, and --write writes the same files', async () => {
    const printed = await wpa(repo, 'fix');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml\n');
    expect(printed.stdout).toContain('+          echo "version=$(cat VERSION)" >> "$GITHUB_OUTPUT"\n');
    expect(printed.stdout).toContain('+          persist-credentials: false\n');
    expect(printed.stdout).toContain('+concurrency:\n');
    expect(printed.stdout).toContain('+permissions:\n+  contents: read  # actions/checkout\n');
    expect(printed.stdout).toContain(`+      - uses: actions/checkout@${checkoutSha} # v4.2.2\n`);
    expect(printed.stdout).not.toContain('timeout-minutes');
    expect(printed.stderr).toContain('wpa: .: 7 fixes in 2 files');
    expect(readFileSync(ciPath(), 'utf8')).toBe(WORKFLOW);

    expect(git(repo, ['apply', '--check', '-'], printed.stdout)).toEqual({ status: 0, stderr: '' });
    expect(git(repo, ['apply', '-'], printed.stdout).status).toBe(0);
    const applied = { ci: readFileSync(ciPath(), 'utf8'), action: readFileSync(actionPath(), 'utf8') };
    expect(applied.action).toBe(
      ACTION.replace('actions/checkout@v4\r\n', `actions/checkout@${checkoutSha} # v4.2.2\r\n      with:\r\n        persist-credentials: false\r\n`),
    );

    writeFileSync(ciPath(), WORKFLOW);
    writeFileSync(actionPath(), ACTION);
    const written = await wpa(repo, 'fix', '--write');
    expect(written.stdout).toBe('');
    expect(written.stderr).toContain('7 fixes written to 2 files');
    expect({ ci: readFileSync(ciPath(), 'utf8'), action: readFileSync(actionPath(), 'utf8') }).toEqual(applied);
    expect((await wpa(repo, 'fix')).stdout).toBe('');
  });

  test('--rule, --unsafe-fixes and --job-timeout choose the fixes; a single file limits them', async () => {
    expect((await wpa(repo, 'fix', '--rule', 'missing-job-timeout')).stdout).toBe('');
    const timeout = await wpa(repo, 'fix', '--rule', 'missing-job-timeout', '--unsafe-fixes', '--job-timeout', '20');
    expect(timeout.stdout).toContain('+    timeout-minutes: 20\n');
    expect(timeout.stdout).not.toContain('concurrency');
    const single = await wpa(repo, 'fix', '.github/actions/setup/action.yml');
    expect(single.stdout).toContain('a/.github/actions/setup/action.yml');
    expect(single.stdout).not.toContain('ci.yml');
  });

  test('--format json lists the applied fixes, the unfixable findings with reasons, and the diff', async () => {
    writeFileSync(ciPath(), WORKFLOW.replace('          echo "::set-output', '          git fetch origin main\n          echo "::set-output'));
    const result = await wpa(repo, 'fix', '--format', 'json');
    const report = JSON.parse(result.stdout) as {
      repositories: Array<{ applied: Array<{ ruleId: string; title: string; safety: string }>; unfixable: Array<{ ruleId: string; reason: string }>; diff: string }>;
    };
    const [repository] = report.repositories;
    expect(repository?.applied.map(({ ruleId, safety }) => `${ruleId}:${safety}`).sort()).toEqual([
      'checkout-persisted-credentials:safe',
      'deprecated-workflow-commands:safe',
      'missing-concurrency-cancel:safe',
      'missing-permissions:safe',
      'unpinned-action:safe',
      'unpinned-action:safe',
    ]);
    expect(repository?.unfixable).toEqual([
      expect.objectContaining({ ruleId: 'checkout-persisted-credentials', reason: 'step `version` runs `git fetch`, which may need the persisted credential' }),
    ]);
    expect(repository?.diff).toContain('diff --git');
  });

  test('pins only when unpinned-action is selected; a ref that does not resolve is unfixable with the reason', async () => {
    expect((await wpa(repo, 'fix', '--rule', 'checkout-persisted-credentials')).stdout).not.toContain(checkoutSha);
    writeFileSync(ciPath(), WORKFLOW.replace('actions/checkout@v4', 'actions/checkout@v5'));
    const pinned = await wpa(repo, 'fix', '--rule', 'unpinned-action');
    expect(pinned.stdout).toContain(`+    - uses: actions/checkout@${checkoutSha} # v4.2.2\r\n`);
    expect(pinned.stderr).toContain('unpinned-action: the ref could not be resolved: actions/checkout: there is no tag or branch `v5`');
  });

  test('usage errors exit 2', async () => {
    expect((await wpa(repo, 'fix', '--rule', 'no-such-rule')).code).toBe(2);
    expect((await wpa(repo, 'fix', '--baseline', 'x')).code).toBe(2);
    expect((await wpa(repo, 'analyze', '--write')).code).toBe(2);
    expect((await wpa(repo, 'fix', '--job-timeout', '0')).code).toBe(2);
  });
});
