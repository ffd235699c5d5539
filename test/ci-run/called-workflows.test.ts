/**
 * Jobs that call reusable workflows, with real act, real git checkouts and the real sandbox: a local call (nested
 * once more) and a mirrored remote one run and their called jobs' runs are the calling job's; an unmirrored remote
 * call, a cycle of calls and calls switched off for the target are not runnable, with the reason. Skipped with a
 * notice only when act cannot be built on this machine.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveActBinary } from '../../src/ci-run/act-binary';
import type { JobOutcome } from '../../src/ci-run/compare';
import { runPlannedJobs } from '../../src/ci-run/invoke';
import { type CiRunPlan, planCiRun, type PlanOptions } from '../../src/ci-run/plan';
import { loadConfig } from '../../src/config';
import { committedCheckout, GREET_ACTION, itWithAct, writeFiles } from '../support/ci-run-fixtures';

jest.setTimeout(25 * 60_000);

const CALLER = '.github/workflows/caller.yml';

const FILES: Record<string, string> = {
  [CALLER]: `on: push
jobs:
  prepare:
    runs-on: ubuntu-latest
    steps:
      - run: echo "top-level prepare"
  call:
    needs: prepare
    uses: ./.github/workflows/reusable.yml
    with:
      who: world
    secrets: inherit
  remote:
    uses: example/shared/.github/workflows/remote.yml@v1
  unmirrored:
    uses: example/absent/.github/workflows/x.yml@v1
`,
  // Its first job has the id of a job the caller needs: act logs both under the id prepare.
  '.github/workflows/reusable.yml': `name: Reusable
on:
  workflow_call:
    inputs:
      who: { type: string, required: true }
jobs:
  prepare:
    runs-on: [self-hosted, linux]
    steps:
      - uses: actions/checkout@v4
      - uses: ./.github/actions/greet
        with:
          who: \${{ inputs.who }}
      - name: token
        run: test "\${{ secrets.DEPLOY_TOKEN }}" = dummy
  nest:
    needs: prepare
    uses: ./.github/workflows/nested.yml
`,
  '.github/workflows/nested.yml': `on: workflow_call
jobs:
  deep:
    runs-on: ubuntu-22.04
    steps:
      - name: deep step
        run: echo "deep in the nested workflow"
`,
  '.github/actions/greet/action.yml': GREET_ACTION,
};

const CYCLE_FILES: Record<string, string> = {
  '.github/workflows/a.yml': 'on: [push, workflow_call]\njobs:\n  to-b:\n    uses: ./.github/workflows/b.yml\n',
  '.github/workflows/b.yml': 'on: workflow_call\njobs:\n  to-a:\n    uses: ./.github/workflows/a.yml\n',
};

let scratch: string;
let actPath: string | undefined;
let unavailableReason = '';
let mirrorDir: string;
let checkoutDir: string;

function plan(options: Partial<PlanOptions> = {}): CiRunPlan {
  return planCiRun({ checkoutDir, workflowPaths: [CALLER], actionMirrorDir: mirrorDir, ...options });
}

async function run(planned: CiRunPlan, dir = checkoutDir): Promise<JobOutcome[]> {
  if (actPath === undefined) throw new Error('act is unavailable');
  const config = loadConfig({ SANDBOX_DIR: path.join(scratch, 'sandbox') }).sandbox;
  return runPlannedJobs({ actPath, checkoutDir: dir, plan: planned, branch: 'main', actionMirrorDir: mirrorDir, settings: { network: false, env: {} }, config, timeoutMs: 5 * 60_000 });
}

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'wpa-called-workflows-test-'));
  // 0755 so the sandbox user reaches the checkouts, the mirror and SANDBOX_DIR, as with a root worker.
  chmodSync(scratch, 0o755);
  mirrorDir = path.join(scratch, 'mirror');
  writeFiles(path.join(mirrorDir, 'example', 'shared@v1'), {
    '.github/workflows/remote.yml': 'on: workflow_call\njobs:\n  remote-job:\n    runs-on: ubuntu-latest\n    steps:\n      - name: remote step\n        run: echo "from the mirrored workflow"\n',
    '.github/workflows/calls-local.yml': 'on: workflow_call\njobs:\n  go:\n    uses: ./.github/workflows/remote.yml\n',
  });
  checkoutDir = committedCheckout(path.join(scratch, 'caller'), FILES);
  const act = await resolveActBinary({ log: (line) => console.log(line) });
  if (act.available) actPath = act.path;
  else unavailableReason = act.reason;
});

afterAll(() => {
  if (scratch !== undefined && existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
});

const actIt = (name: string, test: () => Promise<void>): void => itWithAct(name, () => (actPath === undefined ? unavailableReason : undefined), test);

describe('jobs that call reusable workflows', () => {
  it('plans a calling job with the runner labels, secrets and calls of every job it runs, and the mirrored workflow', () => {
    const planned = plan();
    expect(planned.jobs.map((job) => [job.jobId, job.runnable])).toEqual([['prepare', true], ['call', true], ['remote', true], ['unmirrored', false]]);
    expect(planned.jobs[1]).toMatchObject({
      // ubuntu-latest for the job it needs, which act runs with it.
      runnerLabels: ['self-hosted', 'linux', 'ubuntu-22.04', 'ubuntu-latest'],
      secrets: ['DEPLOY_TOKEN'],
      calls: [{ callerName: 'call', workflowName: 'Reusable' }, { callerName: 'nest', workflowName: 'nested.yml' }],
    });
    expect(planned.jobs[3]).toMatchObject({
      reason: 'it calls example/absent/.github/workflows/x.yml@v1: example/absent/.github/workflows/x.yml@v1 is not in the action mirror (example/absent@v1), and act cannot fetch a remote reusable workflow offline',
    });
    expect(planned.mirroredActions).toEqual([{ action: 'example/shared@v1', dir: path.join(mirrorDir, 'example', 'shared@v1') }]);
  });

  actIt('runs the called jobs as the calling job\'s runs, apart from the job it needs, and a mirrored remote workflow', async () => {
    const outcomes = await run(plan());
    const call = outcomes.find((job) => job.jobId === 'call');
    expect(call?.runnable).toBe(true);
    if (!call?.runnable) return;
    expect(call.runs.map((run) => [run.runName, run.outcome])).toEqual([['call/Reusable/prepare', 'success'], ['nest/nested.yml/deep', 'success']]);
    expect(call.runs[0]?.steps.map((step) => step.logExcerpt).join('')).toContain('hi world');
    expect(call.runs.flatMap((run) => run.steps).map((step) => step.logExcerpt).join('')).not.toContain('top-level prepare');
    const prepare = outcomes.find((job) => job.jobId === 'prepare');
    expect(prepare?.runnable && prepare.runs.map((run) => run.runName)).toEqual(['caller.yml/prepare']);
    const remote = outcomes.find((job) => job.jobId === 'remote');
    expect(remote?.runnable && remote.runs.map((run) => [run.runName, run.outcome])).toEqual([['remote/remote.yml/remote-job', 'success']]);
    expect(remote?.runnable && remote.runs[0]?.steps.map((step) => step.logExcerpt).join('')).toContain('from the mirrored workflow');
  });

  actIt('reports a called job\'s failing step under the calling job', async () => {
    const broken = committedCheckout(path.join(scratch, 'broken'), { ...FILES, '.github/workflows/nested.yml': (FILES['.github/workflows/nested.yml'] ?? '').replace('echo "deep', 'exit 7; echo "deep') });
    const call = (await run(planCiRun({ checkoutDir: broken, workflowPaths: [CALLER], actionMirrorDir: mirrorDir }), broken)).find((job) => job.jobId === 'call');
    expect(call?.runnable && call.runs.map((run) => [run.runName, run.outcome, run.steps.find((step) => step.outcome === 'failure')?.name])).toEqual([
      ['call/Reusable/prepare', 'success', undefined],
      ['nest/nested.yml/deep', 'failure', 'deep step'],
    ]);
  });

  it('does not run calling jobs when calls are switched off for the target', () => {
    const planned = plan({ runCalledWorkflows: false });
    expect(planned.jobs.filter((job) => !job.runnable).map((job) => job.jobId)).toEqual(['call', 'remote', 'unmirrored']);
    expect(planned.jobs[1]).toMatchObject({ reason: 'it calls a reusable workflow, and running called workflows is switched off for the target' });
    expect(planned.mirroredActions).toEqual([]);
  });

  actIt('refuses a cycle of calls without running act', async () => {
    const cycle = committedCheckout(path.join(scratch, 'cycle'), CYCLE_FILES);
    const planned = planCiRun({ checkoutDir: cycle, workflowPaths: ['.github/workflows/a.yml', '.github/workflows/b.yml'] });
    const reason = 'it calls ./.github/workflows/b.yml: its job to-a is not runnable: it calls ./.github/workflows/a.yml: a cycle of calls '
      + '(./.github/workflows/a.yml -> ./.github/workflows/b.yml -> ./.github/workflows/a.yml)';
    // act itself loops on such a cycle without output until it is killed.
    expect(await run(planned, cycle)).toEqual([{ workflowPath: '.github/workflows/a.yml', jobId: 'to-b', runnable: false, reason }]);
  });

  it('refuses a chain of calls nested more than 10 deep, and takes one 10 deep', () => {
    const chain = (length: number): Record<string, string> => Object.fromEntries(Array.from({ length }, (_unused, index) => [
      `.github/workflows/w${index}.yml`,
      index === length - 1
        ? 'on: workflow_call\njobs:\n  last:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n'
        : `on: ${index === 0 ? 'push' : 'workflow_call'}\njobs:\n  next:\n    uses: ./.github/workflows/w${index + 1}.yml\n`,
    ]));
    const plannedChain = (length: number) => planCiRun({ checkoutDir: committedCheckout(path.join(scratch, `chain-${length}`), chain(length)), workflowPaths: ['.github/workflows/w0.yml'] }).jobs[0];
    expect(plannedChain(11)).toMatchObject({ runnable: true, runnerLabels: ['ubuntu-latest'] });
    const tooDeep = plannedChain(12);
    expect(tooDeep?.runnable === false && tooDeep.reason).toMatch(/: it calls \.\/\.github\/workflows\/w11\.yml: calls are nested more than 10 deep$/);
  });

  it('refuses a job under which calls fan out to more than 50', () => {
    // Each level calls the next twice: 2 + 4 + ... + 64 calls under the top-level job.
    const levels = Object.fromEntries(Array.from({ length: 7 }, (_unused, index) => [
      `.github/workflows/f${index}.yml`,
      index === 6
        ? 'on: workflow_call\njobs:\n  leaf:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n'
        : `on: ${index === 0 ? 'push' : 'workflow_call'}\njobs:\n  left:\n    uses: ./.github/workflows/f${index + 1}.yml\n  right:\n    uses: ./.github/workflows/f${index + 1}.yml\n`,
    ]));
    const [left] = planCiRun({ checkoutDir: committedCheckout(path.join(scratch, 'fan-out'), levels), workflowPaths: ['.github/workflows/f0.yml'] }).jobs;
    expect(left?.runnable === false && left.reason).toContain('more than 50 calls of reusable workflows under one job');
  });

  it('refuses calls that leave the checkout, are no reusable workflow, or are local inside a remote one', () => {
    const dir = committedCheckout(path.join(scratch, 'refused'), {
      '.github/workflows/ci.yml': `on: push
jobs:
  outside:
    uses: ./../caller/.github/workflows/nested.yml
  not-callable:
    uses: ./.github/workflows/push-only.yml
  elsewhere:
    uses: ./ci/reusable.yml
  remote-calling-local:
    uses: example/shared/.github/workflows/calls-local.yml@v1
`,
      '.github/workflows/push-only.yml': 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n',
      'ci/reusable.yml': 'on: workflow_call\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n',
    });
    expect(planCiRun({ checkoutDir: dir, workflowPaths: ['.github/workflows/ci.yml'], actionMirrorDir: mirrorDir }).jobs.map((job) => !job.runnable && job.reason)).toEqual([
      'it calls ./../caller/.github/workflows/nested.yml: ./../caller/.github/workflows/nested.yml points outside the checkout',
      'it calls ./.github/workflows/push-only.yml: it has no workflow_call trigger',
      'it calls ./ci/reusable.yml: ./ci/reusable.yml is not a workflow file in .github/workflows',
      // GitHub would take it from example/shared; act 0.2.89 takes ./ from the checkout.
      'it calls example/shared/.github/workflows/calls-local.yml@v1: its job go is not runnable: '
        + 'it calls ./.github/workflows/remote.yml: a local call inside a remote reusable workflow, which act would resolve in the checkout instead',
    ]);
  });
});
