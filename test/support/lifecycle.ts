/**
 * A real setting for patch lifecycle tests: a Temporal dev server, a worker with the real activities over a test
 * database, bare git repositories as targets and a local HTTP server whose health answers the test controls.
 */
import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../src/activities';
import { loadConfig, type Config } from '../../src/config';
import { NO_ACTION_REPOSITORIES_URL } from './git-fixtures';
import type { PatchSpec, PatchState, Target } from '../../src/domain/types';
import { createPatch } from '../../src/store/patches';
import { createTarget } from '../../src/store/targets';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/util/free-port';
import { workerTuning } from '../../src/worker';
import { approveUpdate, patchLifecycleWorkflow, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { useProcessSpawner } from '../../src/process/spawner';
import { START_OF_ROLLOUT } from '../../src/workflows/rollout';
import { patchStartSearchAttributes } from '../../src/workflows/search-attributes';
import { createTestDatabase, type TestDatabase } from './database';
import { createBareRepository } from './git-fixtures';
import { sharedTestState } from './shared-state';

export const CI_WORKFLOW = [
  'name: ci',
  'on: push',
  'permissions:',
  '  contents: read',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '      - run: make',
  '',
].join('\n');

/** A unified diff of CI_WORKFLOW's file with one hunk. */
export function ciWorkflowDiff(hunkHeader: string, lines: string[]): string {
  return ['diff --git a/.github/workflows/ci.yml b/.github/workflows/ci.yml', '--- a/.github/workflows/ci.yml', '+++ b/.github/workflows/ci.yml', hunkHeader, ...lines, ''].join('\n');
}

/** The lines after `runs-on:` with one line inserted before `steps:`. */
export function insertIntoBuildJob(line: string): string {
  return ciWorkflowDiff('@@ -5,6 +5,7 @@ permissions:', [' jobs:', '   build:', '     runs-on: ubuntu-latest', `+    ${line}`, '     steps:', '       - uses: actions/checkout@v4', '       - run: make']);
}

/** Adds a job timeout: a small, safe, analyzer-approved improvement. */
export const TIMEOUT_DIFF = insertIntoBuildJob('timeout-minutes: 15');

export type PatchHandle = WorkflowHandle<typeof patchLifecycleWorkflow>;

/**
 * The prefix of histories recorded now: the lifecycle version whose marker (`patched`) new runs carry. Histories
 * of earlier versions stay in test/replay under their own prefix, so every version still in flight is replayed.
 */
const RECORDED_VERSION = 'v10';

/** Targets (bare repositories registered in the read model) and patch specs over them. */
export interface PatchFixtures {
  createTargets(count: number, options?: { monitored?: boolean; files?: Record<string, string> }): Promise<Target[]>;
  /** A spec over `targets`, stored in the read model as a new patch. */
  spec(targets: Target[], overrides?: Partial<PatchSpec>): Promise<PatchSpec>;
  /** The commits on a target's branch that carry a trailer `key: value`. */
  commitsWithTrailer(target: Target, key: string, value: string): string[];
}

export interface LifecycleHarness extends PatchFixtures {
  config: Config;
  db: TestDatabase;
  client: Client;
  taskQueue: string;
  scratch: string;
  /** Health answers by target name; unknown names answer 200. */
  health: Map<string, number>;
  /** How long the health endpoint of a target (by name) waits before it answers; unknown names answer at once. */
  healthDelayMs: Map<string, number>;
  healthUrl: string;
  start(spec: PatchSpec): Promise<PatchHandle>;
  /**
   * Starts a run at the start of its rollout, approved by `guardian`, the way a hand-over resumes one: for tests
   * of deploys and rollbacks over more targets than testing each of them would allow.
   */
  startRollout(spec: PatchSpec, guardian?: string): Promise<PatchHandle>;
  /** Runs a worker with the configuration's tuning until `until` settles; a function gets the running worker. */
  runWorker<T>(until: Promise<T> | ((worker: Worker) => Promise<T>)): Promise<T>;
  /**
   * With WPA_RECORD_HISTORIES=1, saves the run's event history as test/replay/v7-<name>.json for the replay test
   * (run `WPA_RECORD_HISTORIES=1 npx jest test/workflows/patch-lifecycle` after a deliberate workflow change).
   */
  recordHistory(handle: PatchHandle, name: string): void;
  close(): Promise<void>;
}

let targetCount = 0;

export function patchFixtures(db: TestDatabase, scratch: string, healthUrl = 'http://127.0.0.1:1/health/{target}'): PatchFixtures {
  return {
    async createTargets(count, options = {}) {
      const targets: Target[] = [];
      for (let i = 0; i < count; i += 1) {
        targetCount += 1;
        const repo = createBareRepository(scratch, options.files ?? { '.github/workflows/ci.yml': CI_WORKFLOW, Makefile: 'all:\n\ttrue\n' });
        targets.push(
          await createTarget(db.pool, {
            name: `org/repo-${targetCount}-${randomUUID().slice(0, 8)}`,
            repoUrl: repo,
            branch: 'main',
            healthChecks: options.monitored === false ? [] : [{ type: 'http', url: healthUrl, expectStatus: 200, timeoutMs: 2000 }],
            verifyCommand: null,
            createdBy: 'test',
          }),
        );
      }
      return targets;
    },
    async spec(targets, overrides = {}) {
      const spec: PatchSpec = {
        id: randomUUID(),
        title: 'Add a job timeout',
        type: 'performance',
        description: null,
        author: 'alice',
        diff: TIMEOUT_DIFF,
        targets,
        rollout: { waves: [{ percent: 20 }, { percent: 60 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
        approval: { quorum: 1, timeoutSeconds: 600 },
        ...overrides,
      };
      await createPatch(db.pool, { ...spec, workflowId: `patch-${spec.id}` });
      return spec;
    },
    commitsWithTrailer(target, key, value) {
      const log = execFileSync('git', ['log', `--format=%H %(trailers:key=${key},valueonly,separator=%x2C)`, 'main'], { cwd: target.repoUrl, encoding: 'utf8' });
      return log
        .split('\n')
        .filter((line) => line.trim().split(' ').slice(1).join(' ').split(',').includes(value))
        .map((line) => line.split(' ')[0] ?? '');
    },
  };
}

/**
 * `dynamicConfig`: values for the dev server (e.g. a small history limit that forces hand-overs); `env`: more
 * settings of the worker's configuration (forge credentials).
 */
export async function createLifecycleHarness(options: { dynamicConfig?: Record<string, unknown>; env?: Record<string, string> } = {}): Promise<LifecycleHarness> {
  const state = sharedTestState();
  const scratch = mkdtempSync(path.join(state.scratch, 'lifecycle-'));
  chmodSync(scratch, 0o755);
  const port = await freePort();
  const health = new Map<string, number>();
  const healthDelayMs = new Map<string, number>();
  const healthServer: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '').replace(/^\/health\//, ''));
    const answer = (): void => {
      res.statusCode = health.get(name) ?? 200;
      res.end(res.statusCode === 200 ? 'ok' : 'unhealthy');
    };
    const delay = healthDelayMs.get(name);
    if (delay === undefined) answer();
    else setTimeout(answer, delay);
  });
  await new Promise<void>((resolve) => healthServer.listen(0, '127.0.0.1', resolve));
  const healthUrl = `http://127.0.0.1:${(healthServer.address() as AddressInfo).port}/health/{target}`;
  const [db, server]: [TestDatabase, DevServer] = await Promise.all([
    createTestDatabase(),
    startDevServer({ cliPath: state.temporalCli, dbFile: path.join(scratch, 'temporal.db'), port, uiPort: await freePort(), namespace: 'default', ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}) }),
  ]);
  const taskQueue = `lifecycle-${randomUUID()}`;
  const config = loadConfig({ DATABASE_URL: db.url, TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: scratch, JWT_SECRET: 'x'.repeat(32), ALLOW_LOCAL_REPOS: 'true', ACTIONS_GIT_BASE_URL: NO_ACTION_REPOSITORIES_URL, ...options.env });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const logger = pino({ level: 'silent' });

  return {
    ...patchFixtures(db, scratch, healthUrl),
    config,
    db,
    client,
    taskQueue,
    scratch,
    health,
    healthDelayMs,
    healthUrl,
    async start(spec) {
      return client.workflow.start(patchLifecycleWorkflow, {
        taskQueue,
        workflowId: `patch-${spec.id}`,
        args: [spec],
        staticSummary: spec.title,
        typedSearchAttributes: patchStartSearchAttributes(spec),
      });
    },
    async startRollout(spec, guardian = 'gina') {
      const state: PatchState = {
        patchId: spec.id,
        status: 'deploying',
        statusReason: `approved by ${guardian}`,
        currentStep: 'approved',
        tests: [],
        approvals: [{ guardian, decision: 'approved', comment: null, at: new Date().toISOString() }],
        waves: [],
        currentWave: 0,
        paused: false,
        deployments: [],
        bookkeepingFailures: [],
        handOvers: 0,
      };
      return client.workflow.start(patchLifecycleWorkflow, {
        taskQueue,
        workflowId: `patch-${spec.id}`,
        args: [spec, { state, seq: 0, deploymentSeq: 0, abort: null, rollout: START_OF_ROLLOUT }],
        staticSummary: spec.title,
        typedSearchAttributes: patchStartSearchAttributes(spec),
      });
    },
    async runWorker(until) {
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue,
        workflowBundle: { codePath: state.workflowBundlePath },
        activities: createActivities({ config, pool: db.pool, logger }),
        ...workerTuning(config),
      });
      // As the service's runWorker: git and sandboxed commands go through the process spawner.
      const releaseSpawner = await useProcessSpawner();
      try {
        return await worker.runUntil(typeof until === 'function' ? until(worker) : until);
      } finally {
        await releaseSpawner();
      }
    },
    recordHistory(handle, name) {
      if (process.env.WPA_RECORD_HISTORIES !== '1') return;
      // The CLI's JSON export: historyToJSON trips over the SDK's two protobufjs copies under Jest.
      const json = execFileSync(state.temporalCli, ['workflow', 'show', '--address', server.address, '--workflow-id', handle.workflowId, '--output', 'json'], { encoding: 'utf8' });
      writeFileSync(path.join(__dirname, '..', 'replay', `${RECORDED_VERSION}-${name}.json`), json);
    },
    async close() {
      await nativeConnection.close();
      await client.connection.close();
      healthServer.closeAllConnections();
      await new Promise((resolve) => healthServer.close(resolve));
      await Promise.all([db.drop(), server.stop()]);
    },
  };
}

/** Polls `probe` until it returns a value (a probe that throws counts as "not yet"), for at most `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Waits until the run's live state has `status`. */
export async function waitForStatus(handle: PatchHandle, status: string, timeoutMs?: number): Promise<void> {
  await until(`status ${status}`, async () => ((await handle.query(patchStatusQuery)).status === status ? true : undefined), timeoutMs);
}

/** Waits for the approval step, then approves as `guardian`. */
export async function approveWhenReady(handle: PatchHandle, guardian = 'gina'): Promise<void> {
  await waitForStatus(handle, 'awaiting_approval');
  await handle.executeUpdate(approveUpdate, { args: [{ guardian, comment: null }] });
}
