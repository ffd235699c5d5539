/**
 * The patch activities run in the SDK's activity test harness (real Context: heartbeats, cancellation signal)
 * against a real database, real bare git remotes and a local HTTP server standing in for a target's health
 * endpoint.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import { createPatchActivities, LIFECYCLE_ACTOR, type PatchActivities } from '../../src/activities/patches';
import { type Config, gitWorkRoot, loadConfig } from '../../src/config';
import { type PatchSpec, type SandboxSettings, type StageVerdict, type Target, TEST_STAGES, TREE_STAGES } from '../../src/domain/types';
import type { HealthCheck } from '../../src/health/schemas';
import { readTargetChanges } from '../../src/patching/patched-files';
import type { SandboxConfig } from '../../src/sandbox';
import { listAuditEvents } from '../../src/store/audit';
import { createPatch, getPatch } from '../../src/store/patches';
import { createTarget } from '../../src/store/targets';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { checkoutVersion, CI_PATH, CI_WORKFLOW, TestRemote } from '../git/remote-fixture';

interface HealthRequest {
  url: string;
  headers: IncomingHttpHeaders;
}

/** A health endpoint whose answer the test sets. */
class HealthEndpoint {
  status = 200;
  readonly requests: HealthRequest[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      this.requests.push({ url: request.url ?? '', headers: request.headers });
      response.writeHead(this.status, { 'content-type': 'text/plain' }).end(this.status === 200 ? 'ok' : 'down');
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (caught: unknown) => caught,
  );
  if (!(error instanceof ApplicationFailure)) throw error;
  return error;
}

describe('patch activities', () => {
  let db: TestDatabase;
  let endpoint: HealthEndpoint;
  let remote: TestRemote;
  let dataDir: string;
  let seq = 0;
  beforeAll(async () => {
    db = await createTestDatabase();
    endpoint = new HealthEndpoint();
    await endpoint.start();
  });
  afterAll(async () => {
    await endpoint.stop();
    await db.drop();
  });
  beforeEach(() => {
    remote = new TestRemote();
    dataDir = remote.root;
    endpoint.status = 200;
    endpoint.requests.length = 0;
  });
  afterEach(() => remote.dispose());

  /** The activities of a worker with the default sandbox, or the given one (e.g. naming a missing bubblewrap). */
  function activities(sandbox?: SandboxConfig): PatchActivities {
    // Heartbeats from the start: the tests read an activity's steps from them.
    const defaults = loadConfig({ DATA_DIR: dataDir, ALLOW_LOCAL_REPOS: 'true', WORKER_FIRST_HEARTBEAT_MS: '0' });
    const config: Config = sandbox === undefined ? defaults : { ...defaults, sandbox };
    return createPatchActivities({ config, pool: db.pool, logger: pino({ level: 'silent' }) });
  }

  async function target(healthChecks: HealthCheck[] = [], verifyCommand: string[] | null = null, sandbox?: SandboxSettings): Promise<Target> {
    seq += 1;
    const name = `org/repo-${seq}-${randomUUID().slice(0, 8)}`;
    return createTarget(db.pool, { name, repoUrl: remote.bare, branch: 'main', healthChecks, verifyCommand, createdBy: 'admin', ...(sandbox === undefined ? {} : { sandbox }) });
  }

  async function patch(targets: Target[], diff: string): Promise<PatchSpec> {
    const id = randomUUID();
    const spec: PatchSpec = {
      id,
      title: 'ci: pin actions/checkout to v4',
      type: 'security',
      description: null,
      author: 'alice',
      diff,
      targets,
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 30, windowSeconds: 300, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 1 },
      approval: { quorum: 1, timeoutSeconds: 3600 },
    };
    await createPatch(db.pool, { ...spec, workflowId: `patch-${id}` });
    return spec;
  }

  /** Runs `use` while the database refuses every audit event (a trigger made by the schema owner, who alone may). */
  async function whileAuditRefused(use: () => Promise<void>): Promise<void> {
    const trigger = `refuse_${seq}`;
    await db.ownerPool.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$`);
    await db.ownerPool.query(`CREATE TRIGGER ${trigger} BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION ${trigger}()`);
    try {
      await use();
    } finally {
      await db.ownerPool.query(`DROP TRIGGER ${trigger} ON audit_events`);
      await db.ownerPool.query(`DROP FUNCTION ${trigger}()`);
    }
  }

  /** Runs an activity in the SDK's activity context; collects its heartbeats. */
  async function run<O>(call: (acts: PatchActivities) => Promise<O>, options: { sandbox?: SandboxConfig; heartbeats?: unknown[]; acts?: PatchActivities } = {}): Promise<O> {
    // Expected failures would otherwise be logged as warnings.
    const environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    environment.on('heartbeat', (details: unknown) => options.heartbeats?.push(details));
    const acts = options.acts ?? activities(options.sandbox);
    return environment.run(() => call(acts));
  }

  const bumpDiff = (): string => remote.diffFor(checkoutVersion('v4'));

  /** The four tree stages of the patch's first target in one activity, as the lifecycle runs them; all must pass. */
  async function treeStagesOfFirstTarget(spec: PatchSpec, acts: PatchActivities): Promise<{ results: StageVerdict[]; heartbeats: unknown[] }> {
    const heartbeats: unknown[] = [];
    const results = await run((a) => a.testTargetStages({ patchId: spec.id, target: spec.targets[0]!, stages: TREE_STAGES, diff: spec.diff }), { acts, heartbeats });
    expect(results.map((result) => [result.stage, result.passed])).toEqual(TREE_STAGES.map((stage) => [stage, true]));
    return { results, heartbeats };
  }

  it('records a transition once, with its audit event, however often it is retried', async () => {
    const spec = await patch([await target()], bumpDiff());
    const input = { patchId: spec.id, seq: 1, from: 'pending', to: 'testing', reason: null, at: new Date(Date.UTC(2030, 0, 1)).toISOString() } as const;
    await run((a) => a.recordTransition(input));
    await run((a) => a.recordTransition(input));
    expect(await getPatch(db.pool, spec.id)).toMatchObject({ status: 'testing', transitions: [{ seq: 1, to: 'testing' }] });
    const events = await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: spec.id });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actor: LIFECYCLE_ACTOR, action: 'patch.testing', at: input.at, details: { seq: 1, from: 'pending', to: 'testing' } });
  });

  it('commits a transition together with its audit event: an append that fails leaves neither, and the retry stores both', async () => {
    const spec = await patch([await target()], bumpDiff());
    const input = { patchId: spec.id, seq: 1, from: 'pending', to: 'testing', reason: null, at: new Date(Date.UTC(2030, 0, 1)).toISOString() } as const;
    await whileAuditRefused(async () => {
      await expect(run((a) => a.recordTransition(input))).rejects.toThrow('audit refused');
      expect(await getPatch(db.pool, spec.id)).toMatchObject({ status: 'pending', transitions: [] });
    });
    await run((a) => a.recordTransition(input));
    expect(await getPatch(db.pool, spec.id)).toMatchObject({ status: 'testing', transitions: [{ seq: 1, to: 'testing' }] });
    expect(await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: spec.id })).toHaveLength(1);
  });

  it('runs a test stage at the fetched tip, stores it and heartbeats while working', async () => {
    const spec = await patch([await target()], bumpDiff());
    const heartbeats: unknown[] = [];
    const result = await run((a) => a.runTestStage({ patchId: spec.id, stage: 'isolated', target: spec.targets[0]!, diff: spec.diff }), { heartbeats });
    expect(result).toEqual({ stage: 'isolated', targetId: spec.targets[0]!.id, passed: true, summary: expect.stringContaining('applies cleanly'), log: CI_PATH });
    expect(heartbeats).toEqual(expect.arrayContaining(['applying the diff']));
    expect(remote.workLeftovers()).toEqual([]);
    const stored = (await getPatch(db.pool, spec.id))?.tests;
    expect(stored).toEqual([{ ...result, details: expect.objectContaining({ commitSha: remote.tip() }), startedAt: expect.any(String), finishedAt: expect.any(String) }]);
  });

  it('runs the tree stages of a target in one activity on one preparation, patched once, and fetches again for a later run', async () => {
    const spec = await patch([await target()], bumpDiff());
    const acts = activities();
    const { heartbeats } = await treeStagesOfFirstTarget(spec, acts);
    expect(heartbeats.filter((beat) => beat === 'applying the diff')).toHaveLength(1);
    // The heartbeats tell what the activity does: the fetch first.
    expect(heartbeats.indexOf(`fetching ${spec.targets[0]!.name}`)).toBeLessThan(heartbeats.indexOf('applying the diff'));
    expect(heartbeats).toContain(`fetching ${spec.targets[0]!.name}`);
    expect(remote.workLeftovers()).toEqual([]);
    const stored = (await getPatch(db.pool, spec.id))?.tests ?? [];
    expect(stored.map((test) => test.stage)).toEqual([...TREE_STAGES]);
    expect(new Set(stored.map((test) => test.details.commitSha))).toEqual(new Set([remote.tip()]));
    // Once they are done nothing is kept: a stage after the branch moved tests the new tip.
    remote.commit(checkoutVersion('v5'), 'someone else bumps checkout');
    expect(await run((a) => a.testTargetStages({ patchId: spec.id, target: spec.targets[0]!, stages: ['isolated'], diff: spec.diff }), { acts })).toMatchObject([
      { stage: 'isolated', passed: false, summary: expect.stringContaining('does not apply cleanly') },
    ]);
  });

  it("starts a new patch's tests from the fetch its creation read made in the same process, once", async () => {
    const spec = await patch([await target()], bumpDiff());
    const acts = activities();
    const created = remote.tip();
    // The API's read of the changed files (for the quorum), in this process's work folder as under `npm start`.
    const [changes] = await readTargetChanges(spec.targets, spec.diff, { workRoot: gitWorkRoot(loadConfig({ DATA_DIR: dataDir })), git: { repoUrlPolicy: { allowLocal: true } } });
    expect(changes?.files).toEqual([{ path: CI_PATH, before: CI_WORKFLOW, after: expect.stringContaining('actions/checkout@v4') }]);
    // Pushed after the read: the tests take the read's fetch (fetching would test this commit), and the deploy's
    // lease finds it later.
    remote.commit({ 'README.md': 'pushed after the patch was made\n' }, 'docs: after the patch');
    const heartbeats: unknown[] = [];
    await run((a) => a.testTargetStages({ patchId: spec.id, target: spec.targets[0]!, stages: ['isolated'], diff: spec.diff }), { acts, heartbeats });
    expect(heartbeats).toContain('applying the diff');
    expect((await getPatch(db.pool, spec.id))?.tests.map((test) => test.details.commitSha)).toEqual([created]);
    // Taken once: the next run fetches the branch as it is now.
    await run((a) => a.testTargetStages({ patchId: spec.id, target: spec.targets[0]!, stages: ['isolated'], diff: spec.diff }), { acts });
    expect((await getPatch(db.pool, spec.id))?.tests.map((test) => test.details.commitSha)).toEqual([remote.tip()]);
  });

  it('reports the workflow-run stage of a switched-off target with its tree stages, without cloning for it', async () => {
    const spec = await patch([await target()], bumpDiff());
    const off = { ...spec.targets[0]!, workflowRun: false };
    const verdicts = await run((a) => a.testTargetStages({ patchId: spec.id, target: off, stages: TEST_STAGES, diff: spec.diff }));
    expect(verdicts.map((verdict) => [verdict.stage, verdict.passed])).toEqual(TEST_STAGES.map((stage) => [stage, true]));
    expect(verdicts[4]).toMatchObject({ summary: 'skipped: the target has workflowRun: false' });
    expect((await getPatch(db.pool, spec.id))?.tests.map((test) => test.stage)).toEqual([...TEST_STAGES]);
  });

  it('gives the tree stages of a target with a verify command one checkout with the diff applied, removed afterwards', async () => {
    const verify = [process.execPath, '-e', `process.exit(require('fs').readFileSync(${JSON.stringify(CI_PATH)}, 'utf8').includes('checkout@v4') ? 0 : 3)`];
    const spec = await patch([await target([], verify)], bumpDiff());
    const acts = activities();
    const { results, heartbeats } = await treeStagesOfFirstTarget(spec, acts);
    expect(results[1]?.summary).toBe('local references resolve; the verify command passed');
    expect(heartbeats.filter((beat) => beat === 'applying the diff')).toHaveLength(1);
    expect(remote.workRootEntries()).toEqual([]);
  });

  it('skips the workflow-run stage of a target that switched it off without cloning the target', async () => {
    const spec = await patch([await target()], bumpDiff());
    // A repository that does not exist: a clone would fail the activity.
    const off = { ...spec.targets[0]!, repoUrl: `${remote.bare}-missing`, workflowRun: false };
    const result = await run((a) => a.runTestStage({ patchId: spec.id, stage: 'workflow-run', target: off, diff: spec.diff }));
    expect(result).toMatchObject({ stage: 'workflow-run', passed: true, summary: 'skipped: the target has workflowRun: false' });
  });

  it('returns a failing stage as a result and replaces it when the stage runs again', async () => {
    const spec = await patch([await target()], bumpDiff());
    remote.commit(checkoutVersion('v5'), 'someone else bumps checkout');
    const input = { patchId: spec.id, stage: 'isolated', target: spec.targets[0]!, diff: spec.diff } as const;
    expect(await run((a) => a.runTestStage(input))).toMatchObject({ passed: false, summary: expect.stringContaining('does not apply cleanly') });
    expect(remote.workLeftovers()).toEqual([]);
    remote.commit(checkoutVersion('v3'), 'back to v3');
    expect(await run((a) => a.runTestStage(input))).toMatchObject({ passed: true });
    expect((await getPatch(db.pool, spec.id))?.tests.map((t) => t.passed)).toEqual([true]);
  });

  it('stores the verify command log with credentials and declared sandbox variables masked', async () => {
    // Assembled by the shell, so neither this file nor the argv holds a scannable token.
    const body = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    const verify = ['sh', '-c', `printf "token gh%s\\n" "p_${body}"; echo "key $DEPLOY_KEY"`];
    const spec = await patch([await target([], verify, { network: false, env: { DEPLOY_KEY: 'declared-deploy-key' } })], bumpDiff());
    const result = await run((a) => a.runTestStage({ patchId: spec.id, stage: 'integration', target: spec.targets[0]!, diff: spec.diff }));
    expect(result).toMatchObject({ passed: true, log: expect.stringContaining('token ghp_****\nkey [redacted: DEPLOY_KEY]') });
    const [stored] = (await getPatch(db.pool, spec.id))?.tests ?? [];
    expect(stored?.log).toBe(result.log);
    expect(JSON.stringify(stored)).not.toContain(['gh', 'p_', body].join(''));
    expect(JSON.stringify(stored)).not.toContain('declared-deploy-key');
  });

  it('fails the integration stage, not the activity, on a worker without bubblewrap', async () => {
    const spec = await patch([await target([], ['true'])], bumpDiff());
    const sandbox = { ...loadConfig({}).sandbox, bwrapPath: '/nonexistent/bwrap' };
    const result = await run((a) => a.runTestStage({ patchId: spec.id, stage: 'integration', target: spec.targets[0]!, diff: spec.diff }), { sandbox });
    expect(result).toMatchObject({ passed: false, summary: expect.stringContaining('apt-get install bubblewrap') });
  });

  it('fails a test stage for good when the target branch does not exist', async () => {
    const spec = await patch([await target()], bumpDiff());
    const missingBranch = { ...spec.targets[0]!, branch: 'gone' };
    const error = await failure(run((a) => a.runTestStage({ patchId: spec.id, stage: 'safety', target: missingBranch, diff: spec.diff })));
    expect(error).toMatchObject({ type: 'RefNotFoundError', nonRetryable: true });
  });

  it('records an approval with its audit event under the guardian', async () => {
    const spec = await patch([await target()], bumpDiff());
    const approval = { guardian: 'bob', decision: 'approved', comment: 'ok', at: new Date(Date.UTC(2030, 0, 2)).toISOString() } as const;
    await run((a) => a.recordApproval({ patchId: spec.id, approval }));
    await run((a) => a.recordApproval({ patchId: spec.id, approval }));
    expect((await getPatch(db.pool, spec.id))?.approvals).toEqual([approval]);
    const events = await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: spec.id });
    expect(events.map((e) => [e.actor, e.roles, e.action])).toEqual([['bob', ['guardian'], 'patch.approved']]);
  });

  it('deploys once with the trailers, records the deployment and reuses the commit on a retry', async () => {
    const spec = await patch([await target()], bumpDiff());
    const input = { patchId: spec.id, title: spec.title, target: spec.targets[0]!, wave: 1, diff: spec.diff, approvedBy: ['bob', 'carol'] };
    const before = remote.tip();
    const first = await run((a) => a.deployTarget(input));
    // It stored its row itself: the workflow need not record it again.
    expect(first).toEqual({ commitSha: remote.tip(), previousCommit: before, reused: false, recorded: true });
    expect(remote.messages()[0]).toBe(`${spec.title}\n\nPatch-Id: ${spec.id}\nApproved-by: bob\nApproved-by: carol`);
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v4');

    expect(await run((a) => a.deployTarget(input))).toEqual({ ...first, reused: true });
    expect(remote.messages()).toHaveLength(2);
    expect((await getPatch(db.pool, spec.id))?.deployments).toEqual([
      expect.objectContaining({ targetId: input.target.id, wave: 1, status: 'deployed', deployedCommit: first.commitSha, previousCommit: before, revertCommit: null }),
    ]);
    const events = await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: spec.id });
    expect(events.map((e) => e.action)).toEqual(['deployment.deployed']);
    expect(events[0]?.details).toMatchObject({ targetId: input.target.id, wave: 1, commitSha: first.commitSha, status: 'deployed' });
  });

  it('says so when it could not store its deployment row, so that the workflow records it', async () => {
    const spec = await patch([await target()], bumpDiff());
    const input = { patchId: spec.id, title: spec.title, target: spec.targets[0]!, wave: 1, diff: spec.diff, approvedBy: ['bob'], seq: 2 };
    await whileAuditRefused(async () => {
      expect(await run((a) => a.deployTarget(input))).toEqual({ commitSha: remote.tip(), previousCommit: expect.any(String), reused: false, recorded: false });
    });
    expect((await getPatch(db.pool, spec.id))?.deployments).toEqual([]);
  });

  it('fails a deploy for good when the diff no longer applies', async () => {
    const spec = await patch([await target()], bumpDiff());
    remote.commit(checkoutVersion('v5'), 'the branch moved');
    const error = await failure(run((a) => a.deployTarget({ patchId: spec.id, title: spec.title, target: spec.targets[0]!, wave: 1, diff: spec.diff, approvedBy: ['bob'] })));
    expect(error).toMatchObject({ type: 'PatchDoesNotApplyError', nonRetryable: true });
    expect((await getPatch(db.pool, spec.id))?.deployments).toEqual([]);
  });

  it('records deployment statuses with their errors', async () => {
    const spec = await patch([await target()], bumpDiff());
    const base = { patchId: spec.id, targetId: spec.targets[0]!.id, wave: 1 };
    await run((a) => a.recordDeployment({ ...base, status: 'failed', error: 'patch does not apply' }));
    expect((await getPatch(db.pool, spec.id))?.deployments[0]).toMatchObject({ status: 'failed', error: 'patch does not apply' });
    await run((a) => a.recordDeployment({ ...base, status: 'deploying' }));
    expect((await getPatch(db.pool, spec.id))?.deployments[0]).toMatchObject({ status: 'deploying', error: null });
  });

  it('reads the diff by its hash, and writes no older step over a newer one', async () => {
    const spec = await patch([await target()], bumpDiff());
    const { rows } = await db.pool.query<{ diff_sha256: string }>('SELECT diff_sha256 FROM patches WHERE id = $1', [spec.id]);
    const byHash = { patchId: spec.id, title: spec.title, target: spec.targets[0]!, wave: 1, diffSha256: rows[0]?.diff_sha256 ?? '', approvedBy: ['bob'], seq: 3 };
    const deployed = await run((a) => a.deployTarget(byHash));
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v4');
    const base = { patchId: spec.id, targetId: spec.targets[0]!.id, wave: 1 };
    await run((a) => a.recordDeployment({ ...base, status: 'reverted', revertCommit: 'r'.repeat(40), seq: 5 }));
    // A late write of the deploy (step 3) after the revert was recorded (step 5) changes nothing.
    await run((a) => a.recordDeployment({ ...base, status: 'deployed', deployedCommit: deployed.commitSha, seq: 3 }));
    expect((await getPatch(db.pool, spec.id))?.deployments[0]).toMatchObject({ status: 'reverted', revertCommit: 'r'.repeat(40) });
    const missing = await failure(run((a) => a.deployTarget({ ...byHash, diffSha256: '0'.repeat(64) })));
    expect(missing).toMatchObject({ type: 'DiffNotFoundError', nonRetryable: true });
  });

  it('a revert that finds nothing leaves a marker: a later deploy of the patch there refuses to push', async () => {
    const spec = await patch([await target()], bumpDiff());
    const before = remote.tip();
    expect(await run((a) => a.revertTarget({ patchId: spec.id, target: spec.targets[0]!, wave: 1 }))).toEqual({ status: 'nothing-to-revert', revertCommit: null });
    const late = await failure(run((a) => a.deployTarget({ patchId: spec.id, title: spec.title, target: spec.targets[0]!, wave: 1, diff: spec.diff, approvedBy: ['bob'] })));
    expect(late).toMatchObject({ type: 'PatchRevertedError', nonRetryable: true });
    expect(remote.tip()).toBe(before);
  });

  describe('checkTargetHealth', () => {
    beforeEach(() => {
      process.env.HEALTH_SECRET_WPA_TEST_TOKEN = 'token-for-the-health-endpoint';
    });
    afterEach(() => {
      delete process.env.HEALTH_SECRET_WPA_TEST_TOKEN;
    });

    it('fills the URL placeholders and header variables, and stores the samples of each round', async () => {
      const checks: HealthCheck[] = [{
        type: 'http',
        url: `${endpoint.base}/health/{target}?commit={commit}&patch={patchId}`,
        headers: { Authorization: 'Bearer ${env:HEALTH_SECRET_WPA_TEST_TOKEN}' },
        expectStatus: 200,
        timeoutMs: 2_000,
      }];
      const spec = await patch([await target(checks)], bumpDiff());
      const healthTarget = spec.targets[0]!;
      const input = { patchId: spec.id, target: healthTarget, wave: 1, commit: remote.tip(), round: 1 };
      const [healthy] = await run((a) => a.checkTargetHealth(input));
      expect(healthy).toMatchObject({ ok: true, checkType: 'http', status: 200, check: `GET ${endpoint.base}/health/{target}` });
      expect(endpoint.requests[0]).toMatchObject({
        url: `/health/${encodeURIComponent(healthTarget.name)}?commit=${remote.tip()}&patch=${spec.id}`,
        headers: expect.objectContaining({ authorization: 'Bearer token-for-the-health-endpoint' }),
      });
      endpoint.status = 503;
      const [failing] = await run((a) => a.checkTargetHealth({ ...input, round: 2 }));
      expect(failing).toMatchObject({ ok: false, status: 503, detail: 'expected status 200, got 503' });

      await run((a) => a.recordDeployment({ patchId: spec.id, targetId: healthTarget.id, wave: 1, status: 'deployed' }));
      expect((await getPatch(db.pool, spec.id))?.deployments[0]?.lastSamples).toEqual([healthy, failing]);
    });

    it('reports a check that cannot run as a failed sample naming the reason', async () => {
      const checks: HealthCheck[] = [
        { type: 'http', url: `${endpoint.base}/health?key=secret`, headers: { 'X-Token': '${env:WPA_TEST_UNSET_VARIABLE}' }, expectStatus: 200, timeoutMs: 2_000 },
        { type: 'command', argv: ['true'], timeoutMs: 2_000 },
      ];
      const spec = await patch([await target(checks)], bumpDiff());
      const withoutBubblewrap = { ...loadConfig({}).sandbox, bwrapPath: '/nonexistent/bwrap' };
      const samples = await run((a) => a.checkTargetHealth({ patchId: spec.id, target: spec.targets[0]!, wave: 1, commit: remote.tip(), round: 1 }), { sandbox: withoutBubblewrap });
      expect(samples).toEqual([
        expect.objectContaining({ ok: false, checkType: 'http', check: `GET ${endpoint.base}/health`, detail: expect.stringContaining('WPA_TEST_UNSET_VARIABLE') }),
        expect.objectContaining({ ok: false, checkType: 'command', check: 'command true', detail: expect.stringContaining('apt-get install bubblewrap') }),
      ]);
      expect(endpoint.requests).toEqual([]);
    });

    it('runs command checks in a checkout at the deployed commit, even after the branch moved on', async () => {
      const fileIsV4 = [process.execPath, '-e', `process.exit(require('fs').readFileSync('${CI_PATH}', 'utf8').includes('checkout@v4') ? 0 : 1)`];
      const spec = await patch([await target([{ type: 'command', argv: fileIsV4, timeoutMs: 10_000 }])], bumpDiff());
      const healthTarget = spec.targets[0]!;
      const deployed = await run((a) => a.deployTarget({ patchId: spec.id, title: spec.title, target: healthTarget, wave: 1, diff: spec.diff, approvedBy: ['bob'] }));
      remote.commit(checkoutVersion('v5'), 'the branch moved on');
      const [sample] = await run((a) => a.checkTargetHealth({ patchId: spec.id, target: healthTarget, wave: 1, commit: deployed.commitSha, round: 1 }));
      expect(sample).toMatchObject({ ok: true, checkType: 'command', exitCode: 0 });
      const [atTip] = await run((a) => a.checkTargetHealth({ patchId: spec.id, target: healthTarget, wave: 1, commit: remote.tip(), round: 2 }));
      expect(atTip).toMatchObject({ ok: false, exitCode: 1 });
    });

    it('runs the verify command of a target without health checks as one command sample', async () => {
      const verify = [process.execPath, '-e', `process.exit(require('fs').readFileSync('${CI_PATH}', 'utf8') === ${JSON.stringify(CI_WORKFLOW)} ? 0 : 4)`];
      const spec = await patch([await target([], verify)], bumpDiff());
      const samples = await run((a) => a.checkTargetHealth({ patchId: spec.id, target: spec.targets[0]!, wave: 1, commit: remote.tip(), round: 1 }));
      expect(samples).toEqual([expect.objectContaining({ ok: true, checkType: 'command', exitCode: 0 })]);
    });

    it('returns no sample for an unmonitored target and refuses a commit that is not a SHA', async () => {
      const spec = await patch([await target()], bumpDiff());
      const input = { patchId: spec.id, target: spec.targets[0]!, wave: 1, commit: remote.tip(), round: 1 };
      expect(await run((a) => a.checkTargetHealth(input))).toEqual([]);
      const verifying = { ...spec.targets[0]!, verifyCommand: ['true'] };
      const error = await failure(run((a) => a.checkTargetHealth({ ...input, target: verifying, commit: '--upload-pack=evil' })));
      expect(error).toMatchObject({ type: 'InvalidInputError', nonRetryable: true });
    });
  });

  describe('revertTarget', () => {
    it('reverts a deployed target once and records the revert commit', async () => {
      const spec = await patch([await target()], bumpDiff());
      const revertTarget = spec.targets[0]!;
      await run((a) => a.deployTarget({ patchId: spec.id, title: spec.title, target: revertTarget, wave: 1, diff: spec.diff, approvedBy: ['bob'] }));
      const first = await run((a) => a.revertTarget({ patchId: spec.id, target: revertTarget, wave: 1 }));
      expect(first).toEqual({ status: 'reverted', revertCommit: remote.tip() });
      expect(remote.messages()[0]).toContain(`Reverts-Patch-Id: ${spec.id}`);
      expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW);
      expect(await run((a) => a.revertTarget({ patchId: spec.id, target: revertTarget, wave: 1 }))).toEqual(first);
      expect(remote.messages()).toHaveLength(3);
      expect((await getPatch(db.pool, spec.id))?.deployments[0]).toMatchObject({ status: 'reverted', revertCommit: first.revertCommit, deployedCommit: expect.any(String) });
      const events = await listAuditEvents(db.pool, { subjectType: 'patch', subjectId: spec.id });
      expect(events.map((e) => e.action)).toEqual(['deployment.deployed', 'deployment.reverted']);
    });

    it('marks a target where nothing was deployed as skipped', async () => {
      const spec = await patch([await target()], bumpDiff());
      expect(await run((a) => a.revertTarget({ patchId: spec.id, target: spec.targets[0]!, wave: 2 }))).toEqual({ status: 'nothing-to-revert', revertCommit: null });
      expect((await getPatch(db.pool, spec.id))?.deployments[0]).toMatchObject({ status: 'skipped', wave: 2, revertCommit: null });
    });

    it('fails for good when the revert conflicts with later changes', async () => {
      const spec = await patch([await target()], bumpDiff());
      const conflictTarget = spec.targets[0]!;
      await run((a) => a.deployTarget({ patchId: spec.id, title: spec.title, target: conflictTarget, wave: 1, diff: spec.diff, approvedBy: ['bob'] }));
      remote.commit({ [CI_PATH]: CI_WORKFLOW.replace('actions/checkout@v3', 'actions/checkout@v4.2.2') }, 'someone pins a patch release');
      const error = await failure(run((a) => a.revertTarget({ patchId: spec.id, target: conflictTarget, wave: 1 })));
      expect(error).toMatchObject({ type: 'RevertConflictError', nonRetryable: true });
    });
  });
});
