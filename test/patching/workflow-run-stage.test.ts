/**
 * The workflow-run stage with real git checkouts, real act and the real sandbox: a patch that keeps the jobs green
 * passes, one that breaks a step fails the stage naming the job and the step, and the stage is skipped with its
 * reason when the target switched it off or act is unavailable. Skipped with a notice only where act cannot be built.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ActBinary, resolveActBinary } from '../../src/ci-run';
import { loadConfig } from '../../src/config';
import type { Target } from '../../src/domain/types';
import { runWorkflowRunStage, type WorkflowRunContext } from '../../src/patching/workflow-run-stage';
import { GREET_ACTION } from '../support/ci-run-fixtures';

jest.setTimeout(25 * 60_000);

const WORKFLOW = '.github/workflows/ci.yml';
const BASE_WORKFLOW = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      GREETING: hello
    steps:
      # act copies the checkout into the job's workspace here (local actions are read from there).
      - uses: actions/checkout@v4
      - id: make
        run: echo "value=$GREETING" >> "$GITHUB_OUTPUT"
      - uses: ./.github/actions/greet
        with:
          who: \${{ steps.make.outputs.value }}
      - name: script
        run: |
          set -eu
          test -f README.md
          echo "greeting is $GREETING"
  red:
    runs-on: ubuntu-latest
    steps:
      - name: always red
        run: exit 3
`;

let scratch: string;
let act: ActBinary;
let checkoutCount = 0;

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8', stdio: 'pipe' });
}

const BASE_FILES: Record<string, string> = { [WORKFLOW]: BASE_WORKFLOW, '.github/actions/greet/action.yml': GREET_ACTION, 'README.md': 'a target\n' };

/** A fresh unpatched checkout of `files`, and the diff that turns its workflow into `patchedWorkflow`. */
function checkoutAndDiff(patchedWorkflow: string, files: Record<string, string>): { dir: string; diff: string } {
  checkoutCount += 1;
  const dir = path.join(scratch, `checkout-${checkoutCount}`);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'base');
  writeFileSync(path.join(dir, WORKFLOW), patchedWorkflow);
  const diff = git(dir, 'diff');
  git(dir, 'checkout', '--', WORKFLOW);
  return { dir, diff };
}

function context(patchedWorkflow: string, target: Partial<Target> = {}, actBinary: ActBinary = act, files = BASE_FILES): WorkflowRunContext {
  const { dir, diff } = checkoutAndDiff(patchedWorkflow, files);
  return {
    dir,
    diff,
    target: { branch: 'main', sandbox: { network: false, env: {} }, ...target },
    sandbox: loadConfig({ SANDBOX_DIR: path.join(scratch, 'sandbox') }).sandbox,
    act: actBinary,
    timeoutMs: 10 * 60_000,
  };
}

function patched(from: string, to: string): string {
  if (!BASE_WORKFLOW.includes(from)) throw new Error(`the workflow has no ${from}`);
  return BASE_WORKFLOW.replace(from, to);
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'wpa-workflow-run-test-'));
  // 0755 so the sandbox user reaches the checkouts and SANDBOX_DIR, as with a root worker.
  chmodSync(scratch, 0o755);
  act = await resolveActBinary({ log: (line) => console.log(line) });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Skips (with the reason on the console) rather than fails where act cannot be built. */
function actIt(name: string, test: () => Promise<void>): void {
  it(name, async () => {
    if (!act.available) {
      console.warn(`SKIPPED (act unavailable: ${act.reason}): ${name}`);
      return;
    }
    await test();
  });
}

describe('the workflow-run stage', () => {
  actIt('passes a patch that keeps the jobs green, reports the job already red, and leaves the checkout patched', async () => {
    const harmless = patched('    runs-on: ubuntu-latest\n    env:', '    runs-on: ubuntu-latest\n    timeout-minutes: 10\n    env:');
    const stage = context(harmless);
    const outcome = await runWorkflowRunStage(stage);
    expect(outcome).toMatchObject({ passed: true, summary: '2 job(s) run without and with the patch: 1 passed, 1 failing before and after (not blocking)' });
    expect(outcome.details).toMatchObject({ status: 'ran', workflows: [WORKFLOW], blocking: false, jobs: [{ jobId: 'build', verdict: 'passed' }, { jobId: 'red', verdict: 'still-failing' }] });
    expect(outcome.log).toContain('ci.yml red: fails without and with the patch (not blocking)');
    expect(readFileSync(path.join(stage.dir, WORKFLOW), 'utf8')).toBe(harmless);
  });

  actIt('fails when a job that passed without the patch fails with it, naming the job, the step and its log', async () => {
    const outcome = await runWorkflowRunStage(context(patched('test -f README.md', 'test -f MISSING.md')));
    expect(outcome.passed).toBe(false);
    expect(outcome.summary).toMatch(/^1 job\(s\) that passed without the patch fail with it: job ci\.yml build fails with the patch at step "script"/);
    expect(outcome.log).toContain('ci.yml build: BROKEN by the patch (passed without it)');
    expect(outcome.log).toContain('--- step "script" failed in ci.yml/build ---');
    expect(outcome.details).toMatchObject({ blocking: true, jobs: [{ jobId: 'build', verdict: 'broken', brokenSteps: [{ stepName: 'script' }] }, { jobId: 'red' }] });
  });

  it('is skipped with the reason when the target switched it off', async () => {
    const outcome = await runWorkflowRunStage(context(patched('exit 3', 'exit 4'), { workflowRun: false }));
    expect(outcome).toEqual({
      passed: true,
      summary: 'skipped: the target has workflowRun: false',
      log: 'skipped: the target has workflowRun: false',
      details: { status: 'skipped', reason: 'the target has workflowRun: false' },
    });
  });

  it('is skipped with the reason when act is unavailable', async () => {
    const outcome = await runWorkflowRunStage(context(patched('exit 3', 'exit 4'), {}, { available: false, reason: 'act is not installed at /x/act' }));
    expect(outcome).toMatchObject({ passed: true, summary: 'skipped: act is unavailable: act is not installed at /x/act' });
  });

  actIt('runs the jobs of the event the target chose, with that event\'s refs', async () => {
    const pullRequestWorkflow = `on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - name: event
        run: |
          set -eu
          test "$GITHUB_EVENT_NAME" = pull_request
          test "$GITHUB_BASE_REF" = main
`;
    const files = { ...BASE_FILES, [WORKFLOW]: pullRequestWorkflow };
    const broken = pullRequestWorkflow.replace('test "$GITHUB_BASE_REF" = main', 'test "$GITHUB_BASE_REF" = other');
    const outcome = await runWorkflowRunStage(context(broken, { workflowRunEvent: 'pull_request' }, act, files));
    expect(outcome).toMatchObject({ passed: false, details: { jobs: [{ jobId: 'check', verdict: 'broken', brokenSteps: [{ stepName: 'event' }] }] } });
    const onPush = await runWorkflowRunStage(context(broken, {}, act, files));
    expect(onPush).toMatchObject({ passed: true, summary: "skipped: no job of the changed workflows runs on push, the event the target's jobs are run for" });
  });

  actIt('does not let the checkout choose its own variables, secrets or inputs through act\'s default files', async () => {
    const readsFiles = `on: push
jobs:
  files:
    runs-on: ubuntu-latest
    steps:
      - name: defaults
        run: |
          set -u
          echo "env=\${FROM_DOTENV:-unset} var=\${{ vars.FROM_VARS }} token=\${{ secrets.GITHUB_TOKEN }} other=\${{ secrets.OTHER }}"
          test "\${FROM_DOTENV:-unset}" = unset
          test -z "\${{ vars.FROM_VARS }}"
          test "\${{ secrets.GITHUB_TOKEN }}" = dummy
          test "\${{ secrets.OTHER }}" = dummy
`;
    const files = {
      ...BASE_FILES,
      [WORKFLOW]: readsFiles,
      '.env': 'FROM_DOTENV=from-the-checkout\n',
      '.vars': 'FROM_VARS=from-the-checkout\n',
      '.secrets': 'GITHUB_TOKEN=from-the-checkout\nOTHER=from-the-checkout\n',
      '.input': 'who=from-the-checkout\n',
    };
    const outcome = await runWorkflowRunStage(context(readsFiles.replace('name: defaults', 'name: defaults again'), {}, act, files));
    expect(outcome).toMatchObject({ passed: true, details: { jobs: [{ jobId: 'files', verdict: 'passed' }] } });
  });
});
