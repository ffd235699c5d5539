import { loadConfig } from '../../src/config';
import path from 'node:path';
import { atCachedBranchTip, checkout, disposeCheckout } from '../../src/git';
import type { SandboxSettings, Target, TreeStage } from '../../src/domain/types';
import { boundLog, runStage, type StageReport } from '../../src/patching/stages';
import type { SandboxConfig } from '../../src/sandbox';
import { CI_PATH, CI_WORKFLOW, type Edits, TestRemote } from '../git/remote-fixture';

const REUSABLE_PATH = '.github/workflows/reusable.yml';
const REUSABLE_WORKFLOW = [
  'name: Reusable',
  'on: workflow_call',
  'permissions:',
  '  contents: read',
  'jobs:',
  '  lint:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - run: npm run lint',
  '',
].join('\n');
const CALLER_PATH = '.github/workflows/caller.yml';
const CALLER_WORKFLOW = [
  'name: Caller',
  'on: [push]',
  'permissions:',
  '  contents: read',
  'jobs:',
  '  lint:',
  '    uses: ./.github/workflows/reusable.yml',
  '',
].join('\n');

/** The worker's default sandbox: commands run in bubblewrap, which must be installed (CI installs it). */
const sandbox: SandboxConfig = loadConfig({}).sandbox;

function target(remote: TestRemote, verifyCommand: string[] | null = null, sandboxSettings: SandboxSettings = { network: false, env: {} }): Target {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'org/repo',
    repoUrl: remote.bare,
    branch: 'main',
    healthChecks: [],
    verifyCommand,
    sandbox: sandboxSettings,
    createdBy: 'test',
    createdAt: new Date(0).toISOString(),
  };
}

/** The CI workflow with one line replaced. */
function ciWith(from: string, to: string): Edits {
  if (!CI_WORKFLOW.includes(from)) throw new Error(`the CI workflow has no ${from}`);
  return { [CI_PATH]: CI_WORKFLOW.replace(from, to) };
}

/** A node program as argv: no shell, the same interpreter as the test. */
function nodeScript(source: string): string[] {
  return [process.execPath, '-e', source];
}

describe('test stages', () => {
  let remote: TestRemote;
  beforeEach(() => {
    remote = new TestRemote({ [CI_PATH]: CI_WORKFLOW, [REUSABLE_PATH]: REUSABLE_WORKFLOW, [CALLER_PATH]: CALLER_WORKFLOW, 'README.md': 'hello\n' });
  });
  afterEach(() => remote.dispose());

  interface StageOptions {
    settings?: SandboxSettings;
    sandbox?: SandboxConfig;
  }

  /**
   * Runs a stage as the activity does: at the tip fetched into the branch's cached repository, or, for a target
   * with a verify command, in a checkout the diff is applied to as well.
   */
  async function stage(name: TreeStage, diff: string, verifyCommand: string[] | null = null, options: StageOptions = {}): Promise<StageReport> {
    const context = { diff, target: target(remote, verifyCommand, options.settings), sandbox: options.sandbox ?? sandbox };
    const git = { repoUrlPolicy: { allowLocal: true } };
    if (verifyCommand === null) return atCachedBranchTip(remote.bare, 'main', remote.workRoot, git, ({ gitDir, commitSha }) => runStage(name, { ...context, gitDir, commit: commitSha }));
    const clone = await checkout(remote.bare, 'main', remote.workRoot, git);
    try {
      return await runStage(name, { ...context, gitDir: path.join(clone.dir, '.git'), commit: clone.headSha, workTree: clone.dir });
    } finally {
      await disposeCheckout(clone.dir);
    }
  }

  const pinCheckout = (): string => remote.diffFor(ciWith('actions/checkout@v3', 'actions/checkout@v4'));

  describe('isolated', () => {
    it('passes a diff that applies and keeps the workflow valid', async () => {
      const report = await stage('isolated', pinCheckout());
      expect(report).toMatchObject({ stage: 'isolated', targetId: target(remote).id, passed: true });
      expect(report.summary).toContain('1 changed CI file(s)');
      expect(report.details).toMatchObject({ commitSha: remote.tip(), changedCiFiles: 1 });
    });

    it('fails when the branch changed the lines the diff edits', async () => {
      const diff = pinCheckout();
      remote.commit(ciWith('actions/checkout@v3', 'actions/checkout@v5'), 'someone else pins checkout');
      const report = await stage('isolated', diff);
      expect(report.passed).toBe(false);
      expect(report.summary).toMatch(/^the diff does not apply cleanly to main at [0-9a-f]{12}$/);
      expect(report.log).toContain(CI_PATH);
    });

    it('fails when the changes are already on the branch', async () => {
      const diff = pinCheckout();
      remote.commit(ciWith('actions/checkout@v3', 'actions/checkout@v4'), 'the same change, made by hand');
      const report = await stage('isolated', diff);
      expect(report.passed).toBe(false);
      expect(report.summary).toContain('already there');
    });

    it("fails a workflow that breaks GitHub's schema, naming the place", async () => {
      const report = await stage('isolated', remote.diffFor(ciWith('on: [push]', 'on:\n  push:\n    branch: [main]')));
      expect(report.passed).toBe(false);
      expect(report.summary).toContain('problem(s) in the patched CI files');
      expect(report.log).toMatch(/\.github\/workflows\/ci\.yml:4:\d+: .*\(schema-violation\)/);
    });

    it('fails a workflow that is not valid YAML', async () => {
      const report = await stage('isolated', remote.diffFor(ciWith('  build:', '  build:\n  - [unclosed')));
      expect(report.passed).toBe(false);
      expect(report.log).toContain('(yaml-syntax)');
    });

    it('validates a changed local action outside .github/actions as YAML', async () => {
      const report = await stage('isolated', remote.diffFor({ 'tools/setup/action.yml': 'name: setup\nruns: [unclosed\n' }));
      expect(report.passed).toBe(false);
      expect(report.log).toContain('tools/setup/action.yml');
    });

    it('refuses a diff that writes outside the repository, before touching the checkout', async () => {
      const diff = ['--- a/../escape.txt', '+++ b/../escape.txt', '@@ -0,0 +1 @@', '+x', ''].join('\n');
      const report = await stage('isolated', diff);
      expect(report).toMatchObject({ passed: false, summary: 'the diff is not usable' });
      expect(report.log).toContain('escape.txt');
    });
  });

  describe('integration', () => {
    it('fails when the patch deletes a reusable workflow another workflow calls', async () => {
      const report = await stage('integration', remote.diffFor({ [REUSABLE_PATH]: null }));
      expect(report.passed).toBe(false);
      expect(report.summary).toContain('breaks 1 local reference(s)');
      expect(report.log).toContain(`${CALLER_PATH}: uses: ./.github/workflows/reusable.yml: the file does not exist after the patch`);
    });

    it('fails when a changed workflow uses a local action that does not exist', async () => {
      const report = await stage('integration', remote.diffFor(ciWith('      - run: npm ci', '      - uses: ./.github/actions/setup\n      - run: npm ci')));
      expect(report.passed).toBe(false);
      expect(report.log).toContain('uses: ./.github/actions/setup: no action.yml, action.yaml, Dockerfile in the folder');
    });

    it('accepts a local action the patch adds together with its use', async () => {
      const diff = remote.diffFor({
        ...ciWith('      - run: npm ci', '      - uses: ./.github/actions/setup\n      - run: npm ci'),
        '.github/actions/setup/action.yml': "name: setup\ndescription: d\nruns:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n",
      });
      expect((await stage('integration', diff)).passed).toBe(true);
    });

    it('does not blame the patch for references that were unresolved before it (folders checked out at run time)', async () => {
      remote.commit(ciWith('      - run: npm ci', '      - uses: ./other-repo/.github/actions/setup\n      - run: npm ci'), 'uses an action of a repository checked out at run time');
      const report = await stage('integration', pinCheckout());
      expect(report).toMatchObject({ passed: true, summary: 'local references resolve; the target has no verify command' });
    });

    it('runs the verify command in the patched tree', async () => {
      const check = nodeScript("process.exit(require('fs').readFileSync('.github/workflows/ci.yml', 'utf8').includes('checkout@v4') ? 0 : 3)");
      const report = await stage('integration', pinCheckout(), check);
      expect(report).toMatchObject({ passed: true, summary: 'local references resolve; the verify command passed' });
    });

    it('fails when the verify command fails, with the tail of its output in the log', async () => {
      const report = await stage('integration', pinCheckout(), nodeScript("console.log('checking'); console.error('lint: 2 errors'); process.exit(2)"));
      expect(report.passed).toBe(false);
      expect(report.summary).toBe('local references resolve; the verify command failed with exit code 2');
      expect(report.log).toContain('--- stdout ---\nchecking');
      expect(report.log).toContain('--- stderr ---\nlint: 2 errors');
    });

    it('fails when the verify command cannot start', async () => {
      const report = await stage('integration', pinCheckout(), ['./no-such-verify-script']);
      expect(report.passed).toBe(false);
      expect(report.summary).toBe('local references resolve; the verify command could not start: failed to execute ./no-such-verify-script: No such file or directory');
    });

    it('runs the verify command in the sandbox, on a copy of the checkout, and says so in the log', async () => {
      const report = await stage('integration', pinCheckout(), ['sh', '-c', 'id -u; pwd; echo "region=$REGION"; echo "secret=${JWT_SECRET:-none}"'], {
        settings: { network: false, env: { REGION: 'eu' } },
      });
      expect(report.passed).toBe(true);
      expect(report.log).toContain('ran in bubblewrap as uid 65534, without network access');
      expect(report.log).toContain('--- stdout ---\n65534\n/workspace\nregion=eu\nsecret=none');
    });

    it('fails without running the verify command where bubblewrap is missing, naming the fix', async () => {
      const report = await stage('integration', pinCheckout(), ['true'], { sandbox: { ...sandbox, bwrapPath: '/nonexistent/bwrap' } });
      expect(report.passed).toBe(false);
      expect(report.summary).toBe(
        'local references resolve; the verify command did not run: commands run only inside bubblewrap, which is not installed on this worker: ' +
          'install the package bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or set ALLOW_UNSANDBOXED_COMMANDS=true on a development machine',
      );
    });

    it('masks credentials and the values of declared variables in the log', async () => {
      // Assembled by the shell, so neither this file nor the argv holds a scannable token.
      const body = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
      const printSecrets = ['sh', '-c', `printf "token gh%s\\n" "p_${body}"; echo "key $API_KEY"`];
      const report = await stage('integration', pinCheckout(), printSecrets, { settings: { network: false, env: { API_KEY: 'declared-api-key-value' } } });
      expect(report.passed).toBe(true);
      expect(report.log).toContain('token ghp_****\nkey [redacted: API_KEY]');
      expect(report.log).not.toContain(['gh', 'p_', body].join(''));
      expect(report.log).not.toContain('declared-api-key-value');
    });
  });

  describe('safety', () => {
    it('passes a change that only tightens, listing it for the reviewer', async () => {
      const report = await stage('safety', pinCheckout());
      expect(report.passed).toBe(true);
      expect(report.log).toContain('Other changes:');
    });

    it('fails when a step is removed', async () => {
      const report = await stage('safety', remote.diffFor(ciWith('      - run: npm test\n', '')));
      expect(report.passed).toBe(false);
      expect(report.summary).toContain('1 safety violation(s)');
      expect(report.log).toMatch(/jobs\.build\.steps\[2\]: .*npm test.* \(step-removed\)/);
    });

    it('fails when a credential literal is added', async () => {
      const token = `ghp_${'a1B2c3D4e5'.repeat(3)}123456`;
      const report = await stage('safety', remote.diffFor(ciWith('  NODE_VERSION: 20', `  NODE_VERSION: 20\n  TOKEN: ${token}`)));
      expect(report.passed).toBe(false);
      expect(report.log).toContain('(secret-literal-added)');
      expect(report.log).not.toContain(token);
    });

    it('fails when pull_request_target is added', async () => {
      const report = await stage('safety', remote.diffFor(ciWith('on: [push]', 'on: [push, pull_request_target]')));
      expect(report.passed).toBe(false);
      expect(report.log).toContain('(pull-request-target-added)');
    });
  });

  describe('regression', () => {
    it('passes a fix and reports the score before and after', async () => {
      const report = await stage('regression', pinCheckout());
      expect(report.passed).toBe(true);
      expect(report.summary).toMatch(/^no new high or critical finding, score \d+ -> \d+/);
      const { scoreBefore, scoreAfter } = report.details as { scoreBefore: number; scoreAfter: number };
      expect(scoreAfter).toBeGreaterThanOrEqual(scoreBefore);
    });

    it('fails when the patch introduces a high-severity finding', async () => {
      const injected = '      - run: npm test\n      - run: echo "${{ github.event.head_commit.message }}"\n';
      const report = await stage('regression', remote.diffFor(ciWith('      - run: npm test\n', injected)));
      expect(report.passed).toBe(false);
      expect(report.summary).toMatch(/new finding\(s\) at high or critical severity/);
      expect(report.log).toMatch(/ci\.yml:\d+:\d+: (high|critical) script-injection/);
    });
  });

  it('bounds long logs, keeping both ends', () => {
    const text = `start${'x'.repeat(50_000)}end`;
    const bounded = boundLog(text, 1_000);
    expect(bounded.length).toBeLessThan(1_100);
    expect(bounded.startsWith('start')).toBe(true);
    expect(bounded.endsWith('end')).toBe(true);
  });
});
