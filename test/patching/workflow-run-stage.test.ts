/**
 * The workflow-run stage with real git checkouts, real act and the real sandbox: a patch that keeps the jobs green
 * passes, one that breaks a step fails the stage naming the job and the step, and the stage is skipped with its
 * reason when the target switched it off or act is unavailable. Skipped with a notice only where act cannot be built.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ActBinary, resolveActBinary } from '../../src/ci-run';
import { loadConfig } from '../../src/config';
import type { Target } from '../../src/domain/types';
import { runWorkflowRunStage, type WorkflowRunContext } from '../../src/patching/workflow-run-stage';
import { committedCheckout, git, GREET_ACTION, itWithAct, writeFiles } from '../support/ci-run-fixtures';

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

const BASE_FILES: Record<string, string> = { [WORKFLOW]: BASE_WORKFLOW, '.github/actions/greet/action.yml': GREET_ACTION, 'README.md': 'a target\n' };

/** A fresh unpatched checkout of `files`, and the diff that changes it as `patchedFiles` say. */
function checkoutAndDiff(files: Record<string, string>, patchedFiles: Record<string, string>): { dir: string; diff: string } {
  checkoutCount += 1;
  const dir = committedCheckout(path.join(scratch, `checkout-${checkoutCount}`), files);
  writeFiles(dir, patchedFiles);
  git(dir, 'add', '-A');
  const diff = git(dir, 'diff', '--cached');
  git(dir, 'reset', '-q', '--hard');
  return { dir, diff };
}

/** The stage's context for a patch of BASE_FILES (or `options.files`) that changes them as `patchedFiles` say. */
function context(
  patchedFiles: Record<string, string>,
  target: Partial<Target> = {},
  options: Partial<Pick<WorkflowRunContext, 'act'>> & { files?: Record<string, string> } = {},
): WorkflowRunContext {
  const { files = BASE_FILES, ...stageOptions } = options;
  const { dir, diff } = checkoutAndDiff(files, patchedFiles);
  return {
    dir,
    diff,
    target: { branch: 'main', sandbox: { network: false, env: {} }, ...target },
    sandbox: loadConfig({ SANDBOX_DIR: path.join(scratch, 'sandbox') }).sandbox,
    act,
    timeoutMs: 10 * 60_000,
    ...stageOptions,
  };
}

/** BASE_WORKFLOW with `from` replaced by `to`, as the patched files of context(). */
function patched(from: string, to: string): Record<string, string> {
  if (!BASE_WORKFLOW.includes(from)) throw new Error(`the workflow has no ${from}`);
  return { [WORKFLOW]: BASE_WORKFLOW.replace(from, to) };
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'wpa-workflow-run-test-'));
  // 0755 so the sandbox user reaches the checkouts and SANDBOX_DIR, as with a root worker.
  chmodSync(scratch, 0o755);
  act = await resolveActBinary({ log: (line) => console.log(line) });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const actIt = (name: string, test: () => Promise<void>): void => itWithAct(name, () => (act.available ? undefined : act.reason), test);

describe('the workflow-run stage', () => {
  actIt('passes a patch that keeps the jobs green, reports the job already red, and leaves the checkout patched', async () => {
    const harmless = patched('    runs-on: ubuntu-latest\n    env:', '    runs-on: ubuntu-latest\n    timeout-minutes: 10\n    env:');
    const stage = context(harmless);
    const outcome = await runWorkflowRunStage(stage);
    expect(outcome).toMatchObject({ passed: true, summary: '2 job(s) run without and with the patch: 1 passed, 1 failing before and after (not blocking)' });
    expect(outcome.details).toMatchObject({ status: 'ran', workflows: [WORKFLOW], blocking: false, jobs: [{ jobId: 'build', verdict: 'passed' }, { jobId: 'red', verdict: 'still-failing' }] });
    expect(outcome.log).toContain('ci.yml red: fails without and with the patch (not blocking)');
    expect(readFileSync(path.join(stage.dir, WORKFLOW), 'utf8')).toBe(harmless[WORKFLOW]);
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
    const outcome = await runWorkflowRunStage(context(patched('exit 3', 'exit 4'), {}, { act: { available: false, reason: 'act is not installed at /x/act' } }));
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
    const broken = { [WORKFLOW]: pullRequestWorkflow.replace('test "$GITHUB_BASE_REF" = main', 'test "$GITHUB_BASE_REF" = other') };
    const outcome = await runWorkflowRunStage(context(broken, { workflowRunEvent: 'pull_request' }, { files }));
    expect(outcome).toMatchObject({ passed: false, details: { jobs: [{ jobId: 'check', verdict: 'broken', brokenSteps: [{ stepName: 'event' }] }] } });
    const onPush = await runWorkflowRunStage(context(broken, {}, { files }));
    expect(onPush).toMatchObject({ passed: true, summary: "skipped: no job of the affected workflows runs on push, the event the target's jobs are run for" });
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
    const outcome = await runWorkflowRunStage(context({ [WORKFLOW]: readsFiles.replace('name: defaults', 'name: defaults again') }, {}, { files }));
    expect(outcome).toMatchObject({ passed: true, details: { jobs: [{ jobId: 'files', verdict: 'passed' }] } });
  });
});

describe('the workflow-run stage on reusable workflows and local actions', () => {
  const CALLER = '.github/workflows/caller.yml';
  const REUSABLE = '.github/workflows/reusable.yml';
  const LINT = '.github/workflows/lint.yml';
  const REUSABLE_WORKFLOW = `on:
  workflow_call:
    inputs:
      who: { type: string, required: true }
jobs:
  inner:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: hello
        run: echo "hello \${{ inputs.who }}"
      - uses: ./.github/actions/check
`;
  // The local action runs a script of its folder: a patch changing only the script changes what the jobs do.
  const FILES: Record<string, string> = {
    [CALLER]: 'on: push\njobs:\n  call:\n    uses: ./.github/workflows/reusable.yml\n    with:\n      who: world\n',
    [REUSABLE]: REUSABLE_WORKFLOW,
    [LINT]: 'on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/check\n',
    '.github/workflows/manual.yml': 'on: workflow_dispatch\njobs:\n  by-hand:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo by hand\n',
    '.github/actions/check/action.yml': 'name: check\nruns:\n  using: composite\n  steps:\n    - run: bash "$GITHUB_ACTION_PATH/check.sh"\n      shell: bash\n',
    '.github/actions/check/check.sh': 'echo "check ok"\n',
    'README.md': 'a target\n',
  };
  const reusable = (from: string, to: string): Record<string, string> => {
    if (!REUSABLE_WORKFLOW.includes(from)) throw new Error(`the reusable workflow has no ${from}`);
    return { [REUSABLE]: REUSABLE_WORKFLOW.replace(from, to) };
  };

  actIt('runs the callers of a reusable workflow the patch changes, which pass without and with it', async () => {
    const outcome = await runWorkflowRunStage(context(reusable('    runs-on: ubuntu-latest\n', '    runs-on: ubuntu-latest\n    timeout-minutes: 5\n'), {}, { files: FILES }));
    expect(outcome).toMatchObject({ passed: true, summary: '1 job(s) run without and with the patch: 1 passed' });
    expect(outcome.details).toMatchObject({
      workflows: [CALLER, REUSABLE],
      jobs: [{ workflowPath: CALLER, jobId: 'call', verdict: 'passed', after: [{ runName: 'call/reusable.yml/inner', outcome: 'success' }] }],
    });
  });

  actIt('fails when a patch of the reusable workflow alone breaks a step, naming the calling job and the step', async () => {
    const outcome = await runWorkflowRunStage(context(reusable('echo "hello', 'exit 9; echo "hello'), {}, { files: FILES }));
    expect(outcome.passed).toBe(false);
    expect(outcome.summary).toMatch(/^1 job\(s\) that passed without the patch fail with it: job caller\.yml call fails with the patch at step "hello"/);
    expect(outcome.log).toContain('--- step "hello" failed in call/reusable.yml/inner ---');
  });

  actIt('runs every workflow using a local action whose script alone the patch breaks, directly or through a call', async () => {
    const outcome = await runWorkflowRunStage(context({ '.github/actions/check/check.sh': 'echo "check broken"; exit 4\n' }, {}, { files: FILES }));
    expect(outcome.passed).toBe(false);
    expect(outcome.details).toMatchObject({
      workflows: [CALLER, LINT, REUSABLE],
      jobs: [
        { jobId: 'call', verdict: 'broken', brokenSteps: [{ runName: 'call/reusable.yml/inner', stepName: './.github/actions/check' }] },
        { jobId: 'lint', verdict: 'broken', brokenSteps: [{ runName: 'lint.yml/lint', stepName: './.github/actions/check' }] },
      ],
    });
    expect(outcome.log).toContain('check broken');
  });

  actIt('runs the workflows using a local action whose action.yml alone the patch breaks', async () => {
    const outcome = await runWorkflowRunStage(context({ '.github/actions/greet/action.yml': GREET_ACTION.replace('echo "hi', 'exit 5; echo "hi') }));
    expect(outcome.passed).toBe(false);
    expect(outcome.summary).toMatch(/job ci\.yml build fails with the patch at step "\.\/\.github\/actions\/greet"/);
  });

  actIt('reports a calling job as not runnable, with the reason, when calls are switched off for the target', async () => {
    const outcome = await runWorkflowRunStage(context({ [CALLER]: `${FILES[CALLER] ?? ''}# reviewed\n` }, { workflowRunCalledWorkflows: false }, { files: FILES }));
    expect(outcome).toMatchObject({ passed: true, summary: '1 job(s) run without and with the patch: 0 passed, 1 not runnable here' });
    expect(outcome.log).toContain('caller.yml call: not runnable here: it calls a reusable workflow, and running called workflows is switched off for the target');
  });

  actIt('runs the jobs of the target\'s event', async () => {
    const manual = { '.github/workflows/manual.yml': `${FILES['.github/workflows/manual.yml'] ?? ''}# reviewed\n` };
    expect(await runWorkflowRunStage(context(manual, {}, { files: FILES }))).toMatchObject({ summary: "skipped: no job of the affected workflows runs on push, the event the target's jobs are run for" });
    const outcome = await runWorkflowRunStage(context(manual, { workflowRunEvent: 'workflow_dispatch' }, { files: FILES }));
    expect(outcome).toMatchObject({ passed: true, summary: '1 job(s) run without and with the patch: 1 passed', details: { jobs: [{ jobId: 'by-hand', verdict: 'passed' }] } });
  });

  it('is skipped with the reason when the patch affects no workflow', async () => {
    const stage = context({ 'README.md': 'changed\n', '.github/actions/unused/action.yml': 'name: unused\nruns:\n  using: composite\n  steps: []\n' }, {}, { files: FILES });
    const outcome = await runWorkflowRunStage(stage);
    expect(outcome).toMatchObject({ passed: true, summary: 'skipped: the patch changes no workflow, called workflow or local action that a workflow uses' });
    // Put back as it was: the stage applied the diff only to see what it affects.
    expect(readFileSync(path.join(stage.dir, 'README.md'), 'utf8')).toBe('a target\n');
  });
});
