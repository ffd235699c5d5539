/**
 * A worker process killed (SIGKILL) in the middle of a rollout: a new worker process picks the run up, the
 * interrupted deploy is retried, and every target ends with exactly one patch commit. Killed while act runs a
 * target's job in the workflow-run stage: the sandboxed act dies with it, the stage is retried and reports once.
 * Killed in the middle of a parallel rollback: the next worker finishes it, and every target is reverted once.
 */
import { randomUUID } from 'node:crypto';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { approveUpdate, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { CI_WORKFLOW, createLifecycleHarness, insertIntoBuildJob, type LifecycleHarness } from '../support/lifecycle';
import { revertTimeline } from '../support/revert-history';
import { assertWorkerBuilt, spawnWorkerProcess } from '../support/worker-process';

jest.setTimeout(240_000);

describe('worker crash during deployment', () => {
  let h: LifecycleHarness;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    assertWorkerBuilt();
    h = await createLifecycleHarness();
  }, 120_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h.close();
  });

  function startWorkerProcess(): ChildProcess {
    const child = spawnWorkerProcess(h);
    children.push(child);
    return child;
  }

  /** Kills the worker processes of earlier tests, which poll the same task queue. */
  async function killWorkerProcesses(): Promise<void> {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  }

  async function deploymentRows(patchId: string): Promise<Array<{ wave: number; status: string }>> {
    const { rows } = await h.db.pool.query<{ wave: number; status: string }>('SELECT wave, status FROM deployments WHERE patch_id = $1', [patchId]);
    return rows;
  }

  test('the run completes after the worker is killed mid-rollout, each target committed exactly once', async () => {
    const targets = await h.createTargets(4);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 25 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 },
    });
    const handle = await h.start(spec);
    const first = startWorkerProcess();
    for (let i = 0; i < 600; i += 1) {
      const { rows } = await h.db.pool.query<{ status: string }>('SELECT status FROM patches WHERE id = $1', [spec.id]);
      if (rows[0]?.status === 'awaiting_approval') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
    // Kill the worker as soon as the second wave has landed on one of its targets, read from the branches (the read
    // model may learn of a landing after the next one started): one at a time, so the wave is then half done.
    const landed = (): number => targets.filter((target) => h.commitsWithTrailer(target, 'Patch-Id', spec.id).length > 0).length;
    for (let i = 0; i < 1200 && landed() < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(landed()).toBeGreaterThanOrEqual(2);
    expect(landed()).toBeLessThan(targets.length);

    startWorkerProcess();
    const result = await handle.result();
    expect(result.status).toBe('deployed');
    for (const target of targets) expect(h.commitsWithTrailer(target, 'Patch-Id', spec.id)).toHaveLength(1);
  });

  test('killed in the middle of a parallel rollback: the next worker finishes it, each target reverted exactly once', async () => {
    const targets = await h.createTargets(12);
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 600, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 12, revertParallelism: 4 },
    });
    h.health.set(targets[11]!.name, 503);
    // The only worker until it is killed: the rollback must be interrupted, not finished by another test's worker.
    await killWorkerProcesses();
    const handle = await h.startRollout(spec);
    const first = startWorkerProcess();
    const reverted = async (): Promise<number> => (await deploymentRows(spec.id)).filter((row) => row.status === 'reverted').length;
    for (let i = 0; i < 2400 && (await reverted()) < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const revertedBeforeTheKill = await reverted();
    // Killed with the rollback under way: some targets reverted, others not yet.
    expect(revertedBeforeTheKill).toBeGreaterThanOrEqual(2);
    expect(revertedBeforeTheKill).toBeLessThan(12);

    startWorkerProcess();
    const result = await handle.result();
    h.health.delete(targets[11]!.name);
    expect(result.status).toBe('rolled_back');
    for (const target of targets) expect(h.commitsWithTrailer(target, 'Reverts-Patch-Id', spec.id)).toHaveLength(1);
    expect((await deploymentRows(spec.id)).map((row) => row.status)).toEqual(targets.map(() => 'reverted'));
    // Interrupted reverts were retried as attempts of the same activity: one revert activity per target.
    const { reverts, maxInFlight } = revertTimeline((await handle.fetchHistory()).events ?? []);
    expect(reverts.map((revert) => revert.targetId).sort()).toEqual(targets.map((target) => target.id).sort());
    expect(maxInFlight).toBeLessThanOrEqual(4);
  });

  /** Command lines of running processes that contain `text` (act's argv names the job it runs). */
  function processesWith(text: string): string[] {
    const lines = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
    return lines.filter((line) => line.includes(text) && !line.startsWith('ps '));
  }

  test('killed while act runs a job of the workflow-run stage: act dies with the worker, the stage is retried and reports once', async () => {
    const jobId = `slow-${randomUUID().slice(0, 8)}`;
    // Longer than the wait for act to go below: act ending on its own would prove nothing.
    const workflow = `${CI_WORKFLOW}  ${jobId}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: sleep 12\n`;
    // The worker processes of other tests poll the same task queue: only the one killed here may run the job.
    await killWorkerProcesses();
    const [target] = await h.createTargets(1, { files: { '.github/workflows/ci.yml': workflow, Makefile: 'all:\n\ttrue\n' } });
    const spec = await h.spec([target!], { diff: insertIntoBuildJob('timeout-minutes: 15') });
    const handle = await h.start(spec);
    const first = startWorkerProcess();
    for (let i = 0; i < 1200 && processesWith(`--job ${jobId}`).length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processesWith(`--job ${jobId}`)).not.toEqual([]);
    const eventDirs = [...new Set(processesWith(`--job ${jobId}`).flatMap((line) => /--eventpath (\S+)/.exec(line)?.[1] ?? []).map((file) => path.dirname(file)))];
    expect(eventDirs).not.toEqual([]);
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    // bubblewrap's --die-with-parent: nothing of the run outlives the worker.
    for (let i = 0; i < 50 && processesWith(`--job ${jobId}`).length > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(processesWith(`--job ${jobId}`)).toEqual([]);

    startWorkerProcess();
    for (let i = 0; i < 1800; i += 1) {
      const { rows } = await h.db.pool.query<{ status: string }>('SELECT status FROM patches WHERE id = $1', [spec.id]);
      if (rows[0]?.status !== 'testing') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const state = await handle.query(patchStatusQuery);
    expect(state).toMatchObject({ status: 'awaiting_approval' });
    // The killed worker's event folder went with its other folders when the next worker started.
    expect(eventDirs.filter((dir) => existsSync(dir))).toEqual([]);
    const workflowRunVerdicts = state.tests.filter((test) => test.stage === 'workflow-run');
    expect(workflowRunVerdicts).toEqual([expect.objectContaining({ passed: true })]);
    const { rows } = await h.db.pool.query<{ details: { jobs: Array<{ jobId: string; verdict: string }> } }>(
      "SELECT details FROM test_runs WHERE patch_id = $1 AND stage = 'workflow-run'",
      [spec.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.details.jobs).toEqual(expect.arrayContaining([expect.objectContaining({ jobId, verdict: 'passed' })]));
    // The interrupted activity completed on its second attempt; every other one on its first.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).flatMap((event) => (event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.attempt ?? 1] : []));
    expect(attempts.filter((attempt) => attempt > 1)).toEqual([2]);
    await handle.terminate('test over');
  });
});
