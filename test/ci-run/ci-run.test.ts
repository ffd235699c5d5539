/**
 * Real act (built into .tools/bin on first use), real git checkouts and the real sandbox: a target's jobs run
 * without and with a patch and are compared. Skipped with a notice only when act cannot be built on this machine.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveActBinary } from '../../src/ci-run/act-binary';
import { compareCiRuns, type JobOutcome } from '../../src/ci-run/compare';
import { runPlannedJobs } from '../../src/ci-run/invoke';
import { planCiRun } from '../../src/ci-run/plan';
import { loadConfig } from '../../src/config';
import type { SandboxSettings } from '../../src/domain/types';
import { committedCheckout, GREET_ACTION, itWithAct } from '../support/ci-run-fixtures';

jest.setTimeout(25 * 60_000);

const WORKFLOW = '.github/workflows/ci.yml';
const WORKER_SECRET = 'worker-jwt-secret-that-must-not-leak-0123456789';

const BASE_FILES: Record<string, string> = {
  [WORKFLOW]: `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        flavor: [plain, fancy]
    env:
      GREETING: hello
    steps:
      - uses: actions/checkout@v4
      - id: make
        run: echo "value=$GREETING-\${{ matrix.flavor }}" >> "$GITHUB_OUTPUT"
      - uses: ./.github/actions/greet
        with:
          who: \${{ steps.make.outputs.value }}
      - name: check output
        run: test -n "\${{ steps.make.outputs.value }}"
      - name: script
        run: |
          set -eu
          echo "greeting is $GREETING"
          test -f README.md
  mirrored:
    runs-on: [self-hosted, linux]
    steps:
      - uses: example/hello@v1
  red:
    runs-on: ubuntu-latest
    steps:
      - name: always red
        run: exit 3
  missing-action:
    runs-on: ubuntu-latest
    steps:
      - uses: example/not-mirrored@v2
`,
  '.github/actions/greet/action.yml': GREET_ACTION,
  'README.md': 'a target\n',
};

let scratch: string;
let actPath: string | undefined;
let unavailableReason = '';
let mirrorDir: string;

function sandboxSettings(env: Record<string, string> = {}): SandboxSettings {
  return { network: false, env };
}

function checkout(name: string, files: Record<string, string>): string {
  return committedCheckout(path.join(scratch, name), files);
}

async function runAll(checkoutDir: string, settings = sandboxSettings(), timeoutMs = 5 * 60_000, runner = actPath): Promise<JobOutcome[]> {
  if (runner === undefined) throw new Error('act is unavailable');
  const plan = planCiRun({ checkoutDir, workflowPaths: [WORKFLOW], actionMirrorDir: mirrorDir });
  const config = loadConfig({ SANDBOX_DIR: path.join(scratch, 'sandbox') }).sandbox;
  return runPlannedJobs({ actPath: runner, checkoutDir, plan, branch: 'main', actionMirrorDir: mirrorDir, settings, config, timeoutMs });
}

function patched(replace: [string, string][]): Record<string, string> {
  let workflow = BASE_FILES[WORKFLOW] ?? '';
  for (const [from, to] of replace) {
    if (!workflow.includes(from)) throw new Error(`the workflow has no ${from}`);
    workflow = workflow.replace(from, to);
  }
  return { ...BASE_FILES, [WORKFLOW]: workflow };
}

let before: JobOutcome[];

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'wpa-ci-run-test-'));
  // 0755 so the sandbox user reaches the checkouts, the mirror and SANDBOX_DIR, as with a root worker.
  chmodSync(scratch, 0o755);
  mirrorDir = path.join(scratch, 'mirror');
  mkdirSync(path.join(mirrorDir, 'example', 'hello@v1'), { recursive: true });
  writeFileSync(
    path.join(mirrorDir, 'example', 'hello@v1', 'action.yml'),
    'name: hello\nruns:\n  using: composite\n  steps:\n    - run: echo "hello from the mirror"\n      shell: bash\n',
  );
  const act = await resolveActBinary({ log: (line) => console.log(line) });
  if (act.available) actPath = act.path;
  else unavailableReason = act.reason;
  if (actPath !== undefined) before = await runAll(checkout('before', BASE_FILES));
});

afterAll(() => {
  if (scratch !== undefined && existsSync(scratch)) rmSync(scratch, { recursive: true, force: true });
});

const actIt = (name: string, test: () => void | Promise<void>): void => itWithAct(name, () => (actPath === undefined ? unavailableReason : undefined), test);

describe('running the target\'s CI jobs with act', () => {
  actIt('plans the push jobs: runner labels, the mirrored action, and a job whose action is not mirrored as not runnable', () => {
    const plan = planCiRun({ checkoutDir: path.join(scratch, 'before'), workflowPaths: [WORKFLOW], actionMirrorDir: mirrorDir });
    expect(plan.jobs.map((job) => [job.jobId, job.runnable])).toEqual([['build', true], ['mirrored', true], ['red', true], ['missing-action', false]]);
    expect(plan.jobs[1]).toMatchObject({ runnerLabels: ['self-hosted', 'linux'] });
    expect(plan.jobs[3]).toMatchObject({ reason: 'step 1: example/not-mirrored@v2 is not in the action mirror (example/not-mirrored@v2)' });
    expect(plan.mirroredActions).toEqual([{ action: 'example/hello@v1', dir: path.join(mirrorDir, 'example', 'hello@v1') }]);
  });

  actIt('runs a run: job with a matrix, step outputs and a composite local action green, and a mirrored action', () => {
    const build = before.find((job) => job.jobId === 'build');
    expect(build?.runnable).toBe(true);
    if (!build?.runnable) return;
    expect(build.runs.map((run) => [run.runName, run.outcome]).sort()).toEqual([['ci.yml/build-1', 'success'], ['ci.yml/build-2', 'success']]);
    const greet = build.runs[0]?.steps.find((step) => step.name === './.github/actions/greet');
    expect(greet?.logExcerpt).toMatch(/hi hello-(plain|fancy)/);
    const mirrored = before.find((job) => job.jobId === 'mirrored');
    expect(mirrored?.runnable && mirrored.runs[0]?.outcome).toBe('success');
    expect(mirrored?.runnable && mirrored.runs[0]?.steps.map((step) => step.logExcerpt).join('')).toContain('hello from the mirror');
  });

  actIt('passes a harmless patch: every job as before, the red one still red and not blocking, the unmirrored one not runnable', async () => {
    const after = await runAll(checkout('harmless', patched([['  build:\n    runs-on: ubuntu-latest\n', '  build:\n    runs-on: ubuntu-latest\n    timeout-minutes: 10\n']])));
    const comparison = compareCiRuns(before, after);
    expect(comparison.blocking).toBe(false);
    expect(comparison.jobs.map((job) => [job.jobId, job.verdict])).toEqual([['build', 'passed'], ['mirrored', 'passed'], ['red', 'still-failing'], ['missing-action', 'not-runnable']]);
  });

  it.each([
    ['a renamed output', [['echo "value=', 'echo "renamed=']], 'check output'],
    ['a removed environment variable', [['    env:\n      GREETING: hello\n', '']], 'script'],
    ['a set -e script that now fails', [['test -f README.md', 'test -f MISSING.md']], 'script'],
  ] as const)('fails on %s and names the job, the step and the log', async (_name, replace, stepName) => {
    if (actPath === undefined) {
      console.warn(`SKIPPED (act unavailable: ${unavailableReason})`);
      return;
    }
    const after = await runAll(checkout(`broken-${stepName.replace(/\W/g, '-')}-${replace[0][1].length}`, patched(replace.map(([from, to]) => [from, to]))));
    const comparison = compareCiRuns(before, after);
    expect(comparison.blocking).toBe(true);
    const build = comparison.jobs.find((job) => job.jobId === 'build');
    expect(build?.verdict).toBe('broken');
    if (build?.verdict !== 'broken') return;
    expect(build.brokenSteps.map((step) => step.stepName)).toEqual([stepName, stepName]);
  });

  actIt('keeps the worker\'s environment, files outside the checkout and the network out of a step, and logs the attempts', async () => {
    const server: Server = createServer((socket) => socket.end('reached the worker\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const outside = path.join(scratch, 'outside.txt');
    // Not under /tmp, which the sandbox replaces by its own: the root file system is read-only there.
    const outsideTmp = path.join('/var/tmp', `${path.basename(scratch)}-escape.txt`);
    const connections: number[] = [];
    server.on('connection', () => connections.push(port));
    process.env.JWT_SECRET = WORKER_SECRET;
    try {
      const files = {
        [WORKFLOW]: `on: push
jobs:
  probe:
    runs-on: ubuntu-latest
    steps:
      - name: probe
        run: |
          echo "jwt=\${JWT_SECRET:-unset}"
          echo escaped > ${outside} && echo "wrote the sandbox's own /tmp"
          echo escaped > ${outsideTmp} || echo "write outside refused"
          (exec 3<>/dev/tcp/127.0.0.1/${port} && cat <&3) || echo "network refused"
          echo "region=$REGION"
`,
      };
      const [probe] = await runAll(checkout('probe', files), sandboxSettings({ REGION: 'eu-central' }));
      expect(probe?.runnable).toBe(true);
      if (!probe?.runnable) return;
      const log = probe.runs[0]?.steps.find((step) => step.name === 'probe')?.logExcerpt ?? '';
      expect(log).toContain('jwt=unset');
      expect(log).not.toContain(WORKER_SECRET);
      expect(log).toContain('write outside refused');
      expect(log).toContain('network refused');
      // The target's declared variable reaches the step and is redacted by name in the log.
      expect(log).toContain('region=[redacted: REGION]');
      expect(existsSync(outside)).toBe(false);
      expect(existsSync(outsideTmp)).toBe(false);
      expect(connections).toEqual([]);
    } finally {
      delete process.env.JWT_SECRET;
      server.close();
    }
  });

  actIt('ignores a .actrc in the checkout: it cannot add flags such as --env', async () => {
    const files = {
      '.actrc': '--env INJECTED=from-actrc\n',
      [WORKFLOW]: 'on: push\njobs:\n  show:\n    runs-on: ubuntu-latest\n    steps:\n      - name: show\n        run: echo "injected=${INJECTED:-unset}"\n',
    };
    const [show] = await runAll(checkout('actrc', files));
    expect(show?.runnable).toBe(true);
    if (!show?.runnable) return;
    const log = show.runs[0]?.steps.find((step) => step.name === 'show')?.logExcerpt ?? '';
    expect(log).toContain('injected=unset');
  });

  actIt('carries act\'s error into a job it did not run, and names it when the job passed before', async () => {
    // An act that fails before it runs anything (here a stand-in that only complains): no run of the job in its log.
    const failingAct = path.join(scratch, 'failing-act');
    writeFileSync(failingAct, '#!/bin/sh\necho "act: the workflow cannot be read" >&2\nexit 3\n', { mode: 0o755 });
    const after = await runAll(path.join(scratch, 'before'), sandboxSettings(), 60_000, failingAct);
    const build = after.find((job) => job.jobId === 'build');
    expect(build?.runnable && build.runs).toEqual([
      expect.objectContaining({
        runName: 'ci.yml/build',
        outcome: 'failure',
        steps: [expect.objectContaining({ stepId: '--act--', logExcerpt: 'act ended with 3 without running the job\nact: the workflow cannot be read' })],
      }),
    ]);
    const comparison = compareCiRuns(before, after);
    expect(comparison.jobs.find((job) => job.jobId === 'build')).toMatchObject({ verdict: 'broken', brokenSteps: [{ stepName: '(act did not run the job)' }] });
  });

  actIt('stops a job at its time limit mid-step, and runs no job once the deadline of the plan has passed', async () => {
    const files = { [WORKFLOW]: 'on: push\njobs:\n  slow:\n    runs-on: ubuntu-latest\n    steps:\n      - name: sleep\n        run: sleep 120\n' };
    const dir = checkout('slow', files);
    const startedAt = Date.now();
    const [slow] = await runAll(dir, sandboxSettings(), 5_000);
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    expect(slow?.runnable && slow.runs).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        steps: [
          expect.objectContaining({ name: 'Set up job', outcome: 'success' }),
          expect.objectContaining({ name: 'sleep', outcome: 'failure', logExcerpt: expect.stringMatching(/act timed out after \d+ s and was stopped in this step\n$/) }),
        ],
      }),
    ]);
    const plan = planCiRun({ checkoutDir: dir, workflowPaths: [WORKFLOW] });
    const config = loadConfig({ SANDBOX_DIR: path.join(scratch, 'sandbox') }).sandbox;
    const late = await runPlannedJobs({ actPath: actPath ?? '', checkoutDir: dir, plan, branch: 'main', settings: sandboxSettings(), config, timeoutMs: 60_000, deadline: Date.now() - 1 });
    expect(late).toEqual([{ workflowPath: WORKFLOW, jobId: 'slow', runnable: false, reason: 'not run: the time for running jobs was used up' }]);
  });
});
