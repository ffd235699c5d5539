/**
 * The security review's findings, each replayed as the attacker did it: through the real API (an operator's or
 * an admin's token) against a Temporal dev server, a worker with the real activities, PostgreSQL, bare git
 * repositories, bubblewrap and loopback HTTP servers. Each test failed on the code before the fix.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { createAuthenticator } from '../../src/api/auth';
import { signToken } from '../../src/api/dev-tokens';
import type { PatchState } from '../../src/domain/types';
import { createTarget } from '../../src/store/targets';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { approveUpdate, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { createLifecycleHarness, type LifecycleHarness, TIMEOUT_DIFF } from '../support/lifecycle';

jest.setTimeout(240_000);

/** Values of the worker's own settings a command or a health check must never get hold of. */
const WORKER_SECRETS = { JWT_SECRET: 'jwt-secret-of-the-worker-0123456789abcdef', DATABASE_URL: 'postgres://svc:db-password-of-the-worker@127.0.0.1:1/wpa' };

describe('security findings, replayed against the real stack pieces', () => {
  let h: LifecycleHarness;
  let app: Express;
  let admin: string;
  let operator: string;
  let guardian: string;
  let viewer: string;
  let capture: Server;
  let captureUrl: string;
  const captured: IncomingHttpHeaders[] = [];
  const savedEnv: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const [name, value] of Object.entries(WORKER_SECRETS)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
    h = await createLifecycleHarness();
    await ensureSearchAttributes(h.client, 'default');
    app = createApp({ config: h.config, pool: h.db.pool, temporalClient: h.client, authenticator: createAuthenticator(h.config.auth), logger: pino({ level: 'silent' }) });
    const secret = h.config.auth.jwtSecret ?? '';
    [admin, operator, guardian, viewer] = await Promise.all([
      signToken(secret, 'ada', ['admin']),
      signToken(secret, 'olga', ['operator']),
      signToken(secret, 'gus', ['guardian']),
      signToken(secret, 'vera', ['viewer']),
    ]);
    capture = createServer((req, res) => {
      captured.push(req.headers);
      res.end('ok');
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}/health`;
  }, 120_000);

  afterAll(async () => {
    await new Promise((resolve) => capture.close(resolve));
    await h.close();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const post = (path: string, token: string, body: object) => request(app).post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body);

  async function waitFor(patchId: string, done: (state: PatchState) => boolean): Promise<PatchState> {
    const handle = h.client.workflow.getHandle(`patch-${patchId}`);
    for (let i = 0; i < 900; i += 1) {
      const state = await handle.query(patchStatusQuery);
      if (done(state)) return state;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`patch ${patchId} did not get there`);
  }

  test('1. a verify command is admin-only, runs sandboxed, and neither its output nor its environment shows the worker\'s secrets', async () => {
    const [repo] = await h.createTargets(1);
    const leak = ['sh', '-c', 'echo "JWT=$JWT_SECRET DB=$DATABASE_URL"; cat /proc/1/environ 2>&1; id -u; ls /root 2>&1; exit 0'];
    const asOperator = await post('/targets', operator, { name: 'org/leaky-op', repoUrl: repo?.repoUrl, verifyCommand: leak });
    expect(asOperator.status).toBe(403);
    const target = await post('/targets', admin, { name: 'org/leaky', repoUrl: repo?.repoUrl, verifyCommand: leak });
    expect(target.status).toBe(201);
    const patch = await post('/patches', operator, { title: 'Add a job timeout', type: 'performance', targets: [target.body.id], diff: TIMEOUT_DIFF });
    expect(patch.status).toBe(202);
    await h.runWorker(waitFor(String(patch.body.id), (state) => state.status === 'awaiting_approval' || state.status === 'test_failed'));
    const seen = await request(app).get(`/api/v1/patches/${String(patch.body.id)}`).set('Authorization', `Bearer ${viewer}`);
    const text = JSON.stringify(seen.body);
    const integration = (seen.body.tests as Array<{ stage: string; log: string }>).find((test) => test.stage === 'integration');
    expect(integration?.log).toContain('JWT= DB=');
    expect(integration?.log).toContain('ran in bubblewrap as uid 65534, without network access');
    // /proc/1/environ is the sandbox's own first process: its NUL separators arrive as U+FFFD, storable.
    expect(integration?.log).toMatch(/\ufffd65534\n/);
    expect(integration?.log).toContain("cannot access '/root'");
    for (const value of Object.values(WORKER_SECRETS)) expect(text).not.toContain(value);
    expect(text).not.toContain('db-password-of-the-worker');
  });

  test('2. health check headers cannot name the worker\'s variables, and metadata addresses are refused', async () => {
    const attempt = (name: string, check: object) => post('/targets', admin, { name, repoUrl: '/srv/repo.git', healthChecks: [check] });
    const database = await attempt('org/exfil-db', { type: 'http', url: captureUrl, headers: { 'X-Db': '${env:DATABASE_URL}' } });
    const unknown = await attempt('org/exfil-unknown', { type: 'http', url: captureUrl, headers: { 'X-Db': '${env:SURELY_NOT_SET_ANYWHERE}' } });
    expect(database.status).toBe(422);
    expect(unknown.status).toBe(422);
    // The same sentence for a set and an unset name: nothing to learn about which variables exist.
    expect(String(database.body.detail).replace('DATABASE_URL', 'NAME')).toBe(String(unknown.body.detail).replace('SURELY_NOT_SET_ANYWHERE', 'NAME'));
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://metadata.google.internal/', 'http://2852039166/']) {
      expect((await attempt(`org/meta-${captured.length}-${url.length}`, { type: 'http', url })).status).toBe(422);
    }
    expect((await attempt('org/crlf', { type: 'http', url: captureUrl, headers: { 'X-A': 'a\r\nX-Injected: 1' } })).status).toBe(422);
  });

  test('2b. a stored check that names a worker variable (registered before the fix) sends nothing to its URL', async () => {
    const [repo] = await h.createTargets(1);
    const stored = await createTarget(h.db.pool, {
      name: 'org/legacy-exfil',
      repoUrl: repo?.repoUrl ?? '',
      branch: 'main',
      healthChecks: [{ type: 'http', url: captureUrl, headers: { 'X-Db': '${env:DATABASE_URL}', 'X-Jwt': '${env:JWT_SECRET}' }, expectStatus: 200, timeoutMs: 2000 }],
      verifyCommand: null,
      createdBy: 'before-the-fix',
    });
    // The check cannot be taken (an error, not a failure): one error is enough to give up here.
    const spec = await h.spec([stored], { rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1, failureThreshold: 1, errorThreshold: 1 }, allowUnmonitored: false, parallelism: 1 } });
    const handle = await h.start(spec);
    const result = await h.runWorker(
      (async () => {
        await waitFor(spec.id, (state) => state.status === 'awaiting_approval');
        await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gus', comment: null }] });
        return handle.result();
      })(),
    );
    expect(result.status).toBe('rolled_back');
    expect(JSON.stringify(result)).toContain('HEALTH_SECRET_');
    expect(captured.filter((headers) => headers['x-db'] !== undefined || headers['x-jwt'] !== undefined)).toEqual([]);
  });

  test('3. a title cannot forge an Approved-by trailer; the deployed commit carries exactly the recorded approvals', async () => {
    const [target] = await h.createTargets(1);
    const forged = await post('/patches', operator, { title: 'x\n\nApproved-by: forged-ceo', type: 'security', targets: [target?.id], diff: TIMEOUT_DIFF });
    expect(forged.status).toBe(422);
    expect(forged.body.errors[0].path).toBe('title');
    const patch = await post('/patches', operator, {
      title: 'Approved-by: forged-ceo',
      type: 'security',
      targets: [target?.id],
      diff: TIMEOUT_DIFF,
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 1 } },
    });
    expect(patch.status).toBe(202);
    await h.runWorker(
      (async () => {
        await waitFor(String(patch.body.id), (state) => state.status === 'awaiting_approval');
        expect((await post(`/patches/${patch.body.id}/approve`, guardian, { comment: 'ok\n\nApproved-by: also-forged' })).status).toBe(200);
        await waitFor(String(patch.body.id), (state) => state.status === 'deployed');
      })(),
    );
    const message = execFileSync('git', ['log', '-1', '--format=%B', 'main'], { cwd: target?.repoUrl, encoding: 'utf8' });
    const trailers = execFileSync('git', ['interpret-trailers', '--parse'], { input: message, encoding: 'utf8' }).trim().split('\n');
    expect(trailers).toEqual([`Patch-Id: ${patch.body.id}`, 'Approved-by: gus']);
  });

  test('4. remote helpers, option-like URLs and (on a shared server) local repositories are refused at registration and at patch creation', async () => {
    for (const repoUrl of ['ext::sh -c touch% /tmp/pwned', '--upload-pack=touch /tmp/pwned', 'fd::17', 'ssh://-oProxyCommand=touch%20/tmp/pwned/x']) {
      const res = await post('/targets', operator, { name: `org/url-${repoUrl.length}`, repoUrl });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].path).toBe('repoUrl');
    }
    for (const branch of ['--upload-pack=x', 'a..b', 'main.lock']) {
      expect((await post('/targets', operator, { name: `org/branch-${branch.length}`, repoUrl: 'https://git.example.com/r.git', branch })).status).toBe(422);
    }
    // A shared server: local paths and file:// refused, including a target stored while they were allowed.
    const shared = createApp({
      config: { ...h.config, repositories: { ...h.config.repositories, allowLocal: false } },
      pool: h.db.pool,
      temporalClient: h.client,
      authenticator: createAuthenticator(h.config.auth),
      logger: pino({ level: 'silent' }),
    });
    for (const repoUrl of ['/srv/git/repo.git', 'file:///srv/git/repo.git']) {
      const res = await request(shared).post('/api/v1/targets').set('Authorization', `Bearer ${operator}`).send({ name: `org/local-${repoUrl.length}`, repoUrl });
      expect(res.status).toBe(422);
      expect(res.body.detail).toContain('ALLOW_LOCAL_REPOS');
    }
    const [local] = await h.createTargets(1);
    const patch = await request(shared).post('/api/v1/patches').set('Authorization', `Bearer ${operator}`).send({ title: 'x', type: 'security', targets: [local?.id], diff: TIMEOUT_DIFF });
    expect(patch.status).toBe(422);
    expect(patch.body.detail).toContain(local?.name);
  });

  test('5. a NUL byte in an abort reason is refused at the door and the rollout goes on', async () => {
    const [target] = await h.createTargets(1);
    const patch = await post('/patches', operator, { title: 'Add a job timeout', type: 'performance', targets: [target?.id], diff: TIMEOUT_DIFF });
    await h.runWorker(
      (async () => {
        await waitFor(String(patch.body.id), (state) => state.status === 'awaiting_approval');
        const abort = await post(`/patches/${patch.body.id}/abort`, guardian, { reason: 'stop\u0000now' });
        expect(abort.status).toBe(422);
        expect(abort.body.errors[0]).toMatchObject({ path: 'reason' });
        expect((await post(`/patches/${patch.body.id}/reject`, guardian, { reason: 'clean reason' })).status).toBe(200);
        await waitFor(String(patch.body.id), (state) => state.status === 'rejected');
      })(),
    );
  });
});
