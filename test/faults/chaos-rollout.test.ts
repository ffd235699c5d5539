/**
 * Chaos rollout: 20 patches over 10 real git targets roll out at the same time while the worker process is
 * SIGKILLed again and again, the Temporal dev server restarts and PostgreSQL is down for 20 s. Half the patches
 * turn unhealthy in their second wave and must be rolled back. Afterwards git, the read model and the workflow
 * results must tell the same story: every deploy and every revert happened exactly once, none was lost, the files
 * say so, and the audit chain is intact. Prints one FAULTS line with the figures (docs/RELIABILITY.md).
 */
import path from 'node:path';
import { verifyAuditTrail } from '../../src/audit/verify';
import { type PatchSpec, type PatchStatus, type Target, TERMINAL_PATCH_STATUSES } from '../../src/domain/types';
import { getPatch } from '../../src/store/patches';
import { approveUpdate, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { planWaves } from '../../src/workflows/rollout-plan';
import { CI_WORKFLOW, createLifecycleHarness, type LifecycleHarness, type PatchHandle, TIMEOUT_DIFF } from '../support/lifecycle';
import { startSharedPostgres, stopSharedPostgres } from '../support/postgres-control';
import { fileOnBranch } from './support/git-branch';
import { faultSeed, seededRandom } from './support/seeded-random';
import { restartHarnessTemporal, type TemporalRestart } from './support/temporal-restart';
import { sleep, until } from './support/waiting';
import { WorkerSupervisor } from './support/worker-processes';

// Bounded by its own waits (each at most 4 minutes); a loaded 2-core machine needs more than the usual few minutes.
jest.setTimeout(900_000);

const PATCH_COUNT = 20;
const TARGET_COUNT = 10;
/** Each patch goes to this many of the targets: every target carries several patches. */
const TARGETS_PER_PATCH = 4;
/** At least 5 SIGKILLs of the worker process are required; 6 leaves room. */
const WORKER_KILLS = 6;
const POSTGRES_OUTAGE_MS = 20_000;
/** Repeat a run with FAULTS_SEED=<the seed it printed>. */
const SEED = faultSeed(20_240_601);
/** The Guardian who approves every patch (the author is `alice`, see test/support/lifecycle.ts). */
const GUARDIAN = 'gina';
/** What TIMEOUT_DIFF adds, applied to a file: the content a deployed patch leaves behind. */
const PATCHED_WORKFLOW = CI_WORKFLOW.replace('    steps:\n', '    timeout-minutes: 15\n    steps:\n');
/** Every gRPC call of the test gets this long: a call to a server that is being restarted must not hang the test. */
const CALL_DEADLINE_MS = 10_000;
const ROLLING_OUT: readonly PatchStatus[] = ['deploying', 'paused', 'rolling_back'];

type Fault = 'kill-worker' | 'restart-temporal' | 'stop-postgres';

interface FaultRecord {
  fault: Fault;
  /** Seconds since the chaos began. */
  at: number;
  /** Patches not yet terminal in the read model when the fault hit (null: the read model could not be read). */
  openPatches: number | null;
  /** Of those, the patches deploying, paused or rolling back. */
  rollingOut: number | null;
}

interface ChaosPatch {
  spec: PatchSpec;
  /** The CI file only this patch changes (so that no two patches conflict on a target). */
  file: string;
  healthy: boolean;
  /** Targets per wave, as the rollout plans them. */
  waves: Target[][];
  handle: PatchHandle;
}

describe('chaos rollout', () => {
  let h: LifecycleHarness;
  let workers: WorkerSupervisor | undefined;
  let temporalRestart: TemporalRestart | undefined;

  beforeAll(async () => {
    h = await createLifecycleHarness();
  }, 120_000);
  afterAll(async () => {
    await workers?.stop();
    await h.close();
    await temporalRestart?.server.stop();
  });

  const withDeadline = <T>(call: () => Promise<T>): Promise<T> => h.client.connection.withDeadline(Date.now() + CALL_DEADLINE_MS, call);

  async function readModelStatuses(patches: readonly ChaosPatch[]): Promise<Map<string, PatchStatus>> {
    const { rows } = await h.db.pool.query<{ id: string; status: PatchStatus }>('SELECT id, status FROM patches WHERE id = ANY ($1::uuid[])', [
      patches.map((patch) => patch.spec.id),
    ]);
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** How many patches are still open, and how many of them are rolling out, as the read model says now. */
  async function progress(patches: readonly ChaosPatch[]): Promise<Pick<FaultRecord, 'openPatches' | 'rollingOut'>> {
    const statuses = await readModelStatuses(patches).catch(() => undefined);
    if (!statuses) return { openPatches: null, rollingOut: null };
    const open = [...statuses.values()].filter((status) => !TERMINAL_PATCH_STATUSES.includes(status));
    return { openPatches: open.length, rollingOut: open.filter((status) => ROLLING_OUT.includes(status)).length };
  }

  /** Approves as a Guardian would during an outage: again and again until the approval is recorded. */
  async function approve(patch: ChaosPatch): Promise<void> {
    await until(
      `the approval of patch ${patch.spec.id}`,
      async () => {
        const state = await withDeadline(() => patch.handle.query(patchStatusQuery));
        if (state.approvals.some((approval) => approval.guardian === GUARDIAN)) return true;
        await withDeadline(() => patch.handle.executeUpdate(approveUpdate, { args: [{ guardian: GUARDIAN, comment: 'approved during the chaos test' }] }));
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
  }

  test('20 patches roll out through worker kills, a Temporal restart and a PostgreSQL outage: every commit exactly once', async () => {
    const startedAt = Date.now();
    const random = seededRandom(SEED);
    const files = Array.from({ length: PATCH_COUNT }, (_, index) => `.github/workflows/ci-${String(index + 1).padStart(2, '0')}.yml`);
    const created = await h.createTargets(TARGET_COUNT, { files: { Makefile: 'all:\n\ttrue\n', ...Object.fromEntries(files.map((file) => [file, CI_WORKFLOW])) } });
    // Health is asked per patch and target, so that one patch can be unhealthy on a target where others are fine.
    const healthCheck = { type: 'http' as const, url: h.healthUrl.replace('{target}', '{patchId}/{target}'), expectStatus: 200, timeoutMs: 2000 };
    const targets = created.map((target) => ({ ...target, healthChecks: [healthCheck] }));
    const unhealthy = new Set(random.shuffled(files).slice(0, PATCH_COUNT / 2));

    const patches: ChaosPatch[] = [];
    for (const [index, file] of files.entries()) {
      const waves = index % 2 === 0 ? [{ percent: 25 }, { percent: 50 }, { percent: 100 }] : [{ percent: 50 }, { percent: 100 }];
      const spec = await h.spec(random.shuffled(targets).slice(0, TARGETS_PER_PATCH), {
        title: `Add a job timeout to ${path.basename(file)}`,
        diff: TIMEOUT_DIFF.replaceAll('.github/workflows/ci.yml', file),
        rollout: { waves, health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 2 },
      });
      const planned = planWaves(spec.targets, waves.map((wave) => wave.percent));
      const healthy = !unhealthy.has(file);
      if (!healthy) for (const target of planned[1] ?? []) h.health.set(`${spec.id}/${target.name}`, 503);
      patches.push({ spec, file, healthy, waves: planned, handle: await h.start(spec) });
    }
    workers = new WorkerSupervisor(h);
    workers.start();

    // Tests run before the chaos: a test stage has 3 attempts by design, and a patch whose tests could not run
    // ends test_failed, which is not what this test is about.
    await until(
      'every patch awaiting approval',
      async () => ([...(await readModelStatuses(patches)).values()].filter((status) => status === 'awaiting_approval').length === PATCH_COUNT ? true : undefined),
      { timeoutMs: 240_000, intervalMs: 500 },
    );

    const chaosStartedAt = Date.now();
    const faultLog: FaultRecord[] = [];
    let postgresOutageSeconds = 0;
    // Approvals trickle in while the faults hit, so that rollouts start (and end) throughout the chaos.
    const approvals = (async () => {
      const pending: Array<Promise<void>> = [];
      for (const patch of random.shuffled(patches)) {
        await sleep(random.integer(500, 3_000));
        pending.push(approve(patch));
      }
      await Promise.all(pending);
    })();
    const plan = random.shuffled<Fault>([...Array<Fault>(WORKER_KILLS).fill('kill-worker'), 'restart-temporal', 'stop-postgres']);
    for (const fault of plan) {
      if (fault === 'kill-worker') await workers.polling();
      await sleep(random.integer(2_000, 8_000));
      faultLog.push({ fault, at: Math.round((Date.now() - chaosStartedAt) / 1000), ...(await progress(patches)) });
      if (fault === 'kill-worker') {
        await workers.kill();
      } else if (fault === 'restart-temporal') {
        temporalRestart = await restartHarnessTemporal(h);
      } else {
        await stopSharedPostgres();
        const stoppedAt = Date.now();
        try {
          await sleep(POSTGRES_OUTAGE_MS);
        } finally {
          await startSharedPostgres();
          postgresOutageSeconds = Math.round((Date.now() - stoppedAt) / 1000);
        }
      }
    }
    await approvals;

    await until(
      'every patch terminal in the read model',
      async () => ([...(await readModelStatuses(patches)).values()].every((status) => TERMINAL_PATCH_STATUSES.includes(status)) ? true : undefined),
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    const drainedAt = Date.now();
    // A run ends shortly after its last status reached the read model (it settles its bookkeeping first).
    const results = await Promise.all(
      patches.map((patch) => until(`the result of patch ${patch.spec.id}`, () => withDeadline(() => patch.handle.result()), { timeoutMs: 120_000 })),
    );

    // Git, the read model and the workflow results, compared patch by patch and target by target.
    const problems: string[] = [];
    let duplicated = 0;
    let lost = 0;
    for (const [index, patch] of patches.entries()) {
      const { id } = patch.spec;
      const result = results[index]!;
      const stored = await getPatch(h.db.pool, id);
      const expectedStatus: PatchStatus = patch.healthy ? 'deployed' : 'rolled_back';
      if (result.status !== expectedStatus) problems.push(`Patch ${id} ended ${result.status} (${result.statusReason ?? ''}); it should have ended ${expectedStatus}.`);
      if (stored?.status !== result.status || stored.statusReason !== result.statusReason) {
        problems.push(`Patch ${id}: the read model says ${stored?.status} (${stored?.statusReason ?? ''}), the workflow ${result.status} (${result.statusReason ?? ''}).`);
      }
      const deployedTo = new Set((patch.healthy ? patch.waves : patch.waves.slice(0, 2)).flat().map((target) => target.id));
      for (const target of targets) {
        const deploys = h.commitsWithTrailer(target, 'Patch-Id', id);
        const reverts = h.commitsWithTrailer(target, 'Reverts-Patch-Id', id);
        const expectedDeploys = deployedTo.has(target.id) ? 1 : 0;
        const expectedReverts = deployedTo.has(target.id) && !patch.healthy ? 1 : 0;
        for (const [what, found, expected] of [['Patch-Id', deploys.length, expectedDeploys], ['Reverts-Patch-Id', reverts.length, expectedReverts]] as const) {
          duplicated += Math.max(0, found - expected);
          lost += Math.max(0, expected - found);
          if (found !== expected) problems.push(`${target.name} has ${found} commit(s) with ${what}: ${id}; it should have ${expected}.`);
        }
        const content = fileOnBranch(target, patch.file);
        const expectedContent = patch.healthy && deployedTo.has(target.id) ? PATCHED_WORKFLOW : CI_WORKFLOW;
        if (content !== expectedContent) problems.push(`${patch.file} on ${target.name} is not what patch ${id} (${expectedStatus}) should have left.`);

        const row = stored?.deployments.find((deployment) => deployment.targetId === target.id);
        const recorded = result.deployments.find((deployment) => deployment.targetId === target.id);
        if (!deployedTo.has(target.id)) {
          if (row || recorded) problems.push(`Patch ${id} has a deployment on ${target.name}, where it never went.`);
          continue;
        }
        const expected = { status: patch.healthy ? 'deployed' : 'reverted', deployedCommit: deploys[0] ?? null, revertCommit: reverts[0] ?? null };
        for (const [source, deployment] of [['read model', row], ['workflow result', recorded]] as const) {
          const actual = deployment && { status: deployment.status, deployedCommit: deployment.deployedCommit, revertCommit: deployment.revertCommit };
          if (JSON.stringify(actual) !== JSON.stringify(expected)) {
            problems.push(`The ${source} says patch ${id} on ${target.name} is ${JSON.stringify(actual)}; git says ${JSON.stringify(expected)}.`);
          }
        }
      }
    }
    const audit = await verifyAuditTrail({ pool: h.db.pool, key: undefined, checkpointFile: path.join(h.scratch, 'no-checkpoint-file') });
    if (!audit.ok) problems.push(`The audit chain does not verify: ${audit.problems.join(' ')}`);

    const seconds = Math.round((Date.now() - startedAt) / 1000);
    const figures = {
      patches: PATCH_COUNT,
      kills: workers.kills,
      'temporal-restarts': temporalRestart ? 1 : 0,
      'pg-outage-s': postgresOutageSeconds,
      duplicated,
      lost,
      seconds,
    };
    process.stdout.write(`FAULTS ${Object.entries(figures).map(([name, value]) => `${name}=${value}`).join(' ')}\n`);
    const unplanned = workers.unplannedExits.map((exit) => `${exit.at} code=${exit.code} signal=${exit.signal}: ${exit.output.trim().split('\n').slice(-1)[0] ?? ''}`);
    process.stdout.write(
      `FAULTS seed=${SEED} testing-s=${Math.round((chaosStartedAt - startedAt) / 1000)} chaos-and-drain-s=${Math.round((drainedAt - chaosStartedAt) / 1000)} audit-events=${audit.events} worker-starts=${workers.starts} unplanned-worker-exits=${workers.unplannedExits.length} ` +
        `temporal-down-s=${temporalRestart?.downSeconds.toFixed(1) ?? 0} faults=${faultLog.map((record) => `${record.fault}@${record.at}s(open=${record.openPatches ?? '?'},rolling=${record.rollingOut ?? '?'})`).join(',')}\n` +
        unplanned.map((line) => `FAULTS unplanned worker exit ${line}\n`).join(''),
    );

    expect(problems).toEqual([]);
    expect({ duplicated, lost }).toEqual({ duplicated: 0, lost: 0 });
    expect(workers.kills).toBeGreaterThanOrEqual(5);
    // Every fault hit while patches were still rolling out.
    expect(faultLog.filter((record) => record.openPatches === 0)).toEqual([]);
  });
});
