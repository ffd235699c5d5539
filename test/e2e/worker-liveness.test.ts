/**
 * Worker liveness with a real worker process (`dist/src/worker.js`), a Temporal dev server and the shared
 * PostgreSQL: a starting worker removes the work folders of ended processes, /readyz notices a SIGKILLed worker
 * within 15 s and a restarted one at once, and GET /patches/:id never waits for an absent worker.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { createAuthenticator } from '../../src/api/auth';
import { signToken } from '../../src/api/dev-tokens';
import { folderOwnerTag } from '../../src/process/owned-folders';
import { identityOf } from '../../src/process/process-identity';
import { createLifecycleHarness, type LifecycleHarness } from '../support/lifecycle';
import { assertWorkerBuilt, spawnWorkerProcess } from '../support/worker-process';

jest.setTimeout(240_000);

describe('worker liveness', () => {
  let h: LifecycleHarness;
  let app: ReturnType<typeof createApp>;
  let viewer: string;
  let sandboxDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    assertWorkerBuilt();
    h = await createLifecycleHarness();
    sandboxDir = mkdtempSync(path.join(h.scratch, 'sandbox-'));
    app = createApp({ config: h.config, pool: h.db.pool, temporalClient: h.client, authenticator: createAuthenticator(h.config.auth), logger: pino({ level: 'silent' }) });
    viewer = await signToken(h.config.auth.jwtSecret ?? '', 'vera', ['viewer'], '1h');
  }, 120_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h.close();
  });

  function startWorkerProcess(): ChildProcess {
    const child = spawnWorkerProcess(h, { env: { SANDBOX_DIR: sandboxDir } });
    children.push(child);
    return child;
  }

  /** Polls /readyz every 200 ms until its status is `status` (at most `limitMs`); how long that took. */
  async function readyzBecomes(status: number, limitMs: number): Promise<{ ms: number; body: Record<string, unknown> }> {
    const started = Date.now();
    let res = await request(app).get('/readyz');
    while (res.status !== status && Date.now() - started < limitMs) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      res = await request(app).get('/readyz');
    }
    expect(res.status).toBe(status);
    return { ms: Date.now() - started, body: res.body as Record<string, unknown> };
  }

  async function getPatch(id: string): Promise<{ ms: number; status: number; live: unknown }> {
    const started = Date.now();
    const res = await request(app).get(`/api/v1/patches/${id}`).set('Authorization', `Bearer ${viewer}`);
    return { ms: Date.now() - started, status: res.status, live: (res.body as { live: unknown }).live };
  }

  /** Work folders as a killed worker, a live one, another host and an older version leave them. */
  async function leftWorkFolders(): Promise<{ gone: string[]; kept: string[] }> {
    const endedPid = spawnSync('true').pid;
    const self = await identityOf(process.pid);
    const owners = {
      ended: folderOwnerTag({ pid: endedPid, startTicks: 1 }),
      reusedPid: folderOwnerTag({ pid: process.pid, startTicks: (self?.startTicks ?? 0) + 1 }),
      live: folderOwnerTag({ pid: process.pid, startTicks: self?.startTicks ?? 0 }),
    };
    const workRoot = path.join(h.scratch, 'work');
    const gone = [
      path.join(workRoot, `wpa-git-${owners.ended}-checkout-aaaaaa`),
      path.join(workRoot, `wpa-git-${owners.reusedPid}-tree-bbbbbb`),
      // A killed worker's repository cache (src/git/repo-cache.ts).
      path.join(workRoot, `wpa-git-${owners.ended}-cache-iiiiii`),
      path.join(sandboxDir, `run-${owners.ended}-cccccc`),
    ];
    const kept = [
      path.join(workRoot, `wpa-git-${owners.live}-checkout-dddddd`),
      path.join(workRoot, 'wpa-git-another-host.1.1-checkout-eeeeee'),
      path.join(workRoot, 'wpa-git-checkout-ffffff'),
      path.join(sandboxDir, `run-${owners.live}-gggggg`),
      path.join(sandboxDir, 'run-hhhhhh'),
    ];
    for (const dir of [...gone, ...kept]) {
      mkdirSync(path.join(dir, '.git'), { recursive: true });
      writeFileSync(path.join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    }
    return { gone, kept };
  }

  test('work folders of ended processes go at worker start; /readyz follows a SIGKILLed and a restarted worker; reads never wait for one', async () => {
    const [target] = await h.createTargets(1);
    if (!target) throw new Error('one target was created');
    const spec = await h.spec([target]);
    await h.start(spec);

    const noWorker = await getPatch(spec.id);
    expect(noWorker).toMatchObject({ status: 200, live: null });
    expect(noWorker.ms).toBeLessThan(500);
    const before = await request(app).get('/readyz');
    expect(before.body.detail).toMatch(/worker: no worker is running on task queue lifecycle-.+ \(none has sent a heartbeat\)/);

    const folders = await leftWorkFolders();
    const first = startWorkerProcess();
    await readyzBecomes(200, 90_000);
    // The folders are removed before the worker polls, so before its first heartbeat.
    expect(folders.gone.filter((dir) => existsSync(dir))).toEqual([]);
    expect(folders.kept.filter((dir) => !existsSync(dir))).toEqual([]);

    let withWorker = await getPatch(spec.id);
    for (let i = 0; i < 40 && withWorker.live === null; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      withWorker = await getPatch(spec.id);
    }
    expect(withWorker.live).toMatchObject({ status: expect.any(String) });

    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const notReady = await readyzBecomes(503, 20_000);
    process.stdout.write(`/readyz not ready ${notReady.ms} ms after the worker was SIGKILLed\n`);
    // The last heartbeat came before the kill, so 15 s at most, plus one poll on a busy machine.
    expect(notReady.ms).toBeLessThanOrEqual(16_000);
    expect(notReady.body.detail).toMatch(/worker: no worker on task queue lifecycle-.+ sent a heartbeat within 15 s \(the newest is \d+ s old\)/);

    const afterKill = await getPatch(spec.id);
    process.stdout.write(`GET /patches/:id without a worker: ${afterKill.ms} ms\n`);
    expect(afterKill).toMatchObject({ status: 200, live: null });
    expect(afterKill.ms).toBeLessThan(500);

    const second = startWorkerProcess();
    const readyAgain = await readyzBecomes(200, 90_000);
    process.stdout.write(`/readyz ready ${readyAgain.ms} ms after a new worker process was started\n`);

    // A graceful stop deletes the worker's heartbeat row.
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    const { rows } = await h.db.pool.query('SELECT 1 FROM worker_heartbeats WHERE pid = $1', [second.pid]);
    expect(rows).toEqual([]);
  });
});
