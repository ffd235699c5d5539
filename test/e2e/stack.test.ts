/**
 * The all-in-one starter as a user runs it (test/support/starter.ts): start, analyze, stop, restart on the same
 * data. After a crash: test/e2e/starter-crash.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { createBareRepository } from '../support/git-fixtures';
import { killProcessesMentioning, MAIN, processesMentioning, stackApi as api, stackEnv, startStack as start, stopStack as stop } from '../support/starter';

const WPA = path.join(__dirname, '..', '..', 'bin', 'wpa.js');

describe('npm start: the embedded stack', () => {
  let dataDir = '';
  let env: NodeJS.ProcessEnv;
  let pgData = '';

  beforeAll(async () => {
    ({ dataDir, env } = await stackEnv('stack-'));
  });

  afterAll(() => {
    killProcessesMentioning(dataDir, pgData);
  });

  test('starts, analyzes a target through Temporal, stops cleanly on SIGTERM, and restarts on the same data', async () => {
    const first = await start(env);
    expect(Object.keys(first.tokens).sort()).toEqual(['admin', 'guardian', 'operator', 'viewer']);
    // Development tokens live 12 hours.
    const claims = JSON.parse(Buffer.from(first.tokens.admin?.split('.')[1] ?? '', 'base64url').toString()) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(12 * 3600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    // Where PostgreSQL really keeps its data (as root: a folder the postgres user can reach, linked from .data/pg).
    pgData = realpathSync(path.join(dataDir, 'pg'));
    expect(first.output()).toContain(`Temporal:         127.0.0.1:${env.TEMPORAL_DEV_PORT}`);
    expect(statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(existsSync(path.join(dataDir, 'temporal.db'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);
    // The worker and API connect as the generated least-privilege role; the superuser only migrates and grants.
    expect(first.output()).toMatch(/PostgreSQL: +postgres:\/\/wpa_app:\*\*\*@127\.0\.0\.1:/);
    expect(first.output()).not.toContain('could rewrite the audit trail');
    for (const secret of ['pg-app-password', 'audit-checkpoint-key']) expect(statSync(path.join(dataDir, secret)).mode & 0o777).toBe(0o600);

    const ui = await fetch(first.uiUrl);
    expect(ui.status).toBe(200);
    let ready = await fetch(`${first.apiUrl}/readyz`);
    for (let i = 0; i < 40 && ready.status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      ready = await fetch(`${first.apiUrl}/readyz`);
    }
    expect(ready.status).toBe(200);

    const repo = createBareRepository(dataDir, {
      '.github/workflows/ci.yml': 'name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n',
      'Makefile': 'all:\n\ttrue\n',
    });
    const target = await api(first, 'POST', '/api/v1/targets', 'admin', { name: 'org/demo', repoUrl: repo, verifyCommand: ['make'] });
    expect(target.status).toBe(201);
    const analysis = await api(first, 'POST', '/api/v1/analyses', 'operator', { targetId: target.json.id });
    expect(analysis.status).toBe(201);
    expect(analysis.json).toMatchObject({ status: 'succeeded', targetId: target.json.id });
    expect(analysis.json.score).toEqual(expect.any(Number));
    const ruleIds = (analysis.json.findings as Array<{ ruleId: string }>).map((f) => f.ruleId);
    expect(ruleIds).toEqual(expect.arrayContaining(['missing-job-timeout', 'missing-permissions']));

    const secondTarget = await api(first, 'POST', '/api/v1/targets', 'admin', { name: 'org/demo-two', repoUrl: repo, verifyCommand: ['make'] });
    const scan = await api(first, 'POST', '/api/v1/analyses', 'operator', { targetIds: [target.json.id, secondTarget.json.id], concurrency: 2 });
    expect(scan.status).toBe(202);
    let progress = await api(first, 'GET', `/api/v1/analyses/${String(scan.json.id)}`, 'viewer');
    for (let i = 0; i < 120 && progress.json.status === 'running'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      progress = await api(first, 'GET', `/api/v1/analyses/${String(scan.json.id)}`, 'viewer');
    }
    expect(progress.json).toMatchObject({ status: 'completed', progress: { total: 2, succeeded: 2, failed: 0, running: 0 } });
    expect((progress.json.analyses as Array<{ score: number }>).map((a) => a.score)).toEqual([analysis.json.score, analysis.json.score]);

    const verified = await api(first, 'GET', '/api/v1/audit/verify', 'guardian');
    expect(verified.json).toMatchObject({ ok: true, firstBrokenSeq: null, problems: [] });
    // The CLI finds the running stack of DATA_DIR on its own (no DATABASE_URL) and reads the generated key.
    const cli = spawnSync(process.execPath, [WPA, 'audit', 'verify', '--format', 'json'], { env: { ...process.env, ...env, AUDIT_CHECKPOINT_KEY: '' }, encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, problems: [] });

    const stopped = await stop(first, 'SIGTERM');
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(15_000);
    expect([...processesMentioning(dataDir), ...processesMentioning(pgData)]).toEqual([]);
    // The last checkpoint, written at shutdown, covers every event of the run.
    const checkpointFile = path.join(dataDir, 'audit-checkpoints.jsonl');
    expect(statSync(checkpointFile).mode & 0o777).toBe(0o600);
    const lastCheckpoint = JSON.parse(readFileSync(checkpointFile, 'utf8').trim().split('\n').at(-1) ?? '') as { events: number };
    expect(lastCheckpoint.events).toBeGreaterThanOrEqual(Number(verified.json.events));

    const restarted = await start(env);
    expect(restarted.readyMs).toBeLessThan(20_000);
    const health = await api(restarted, 'GET', `/api/v1/targets/${String(target.json.id)}/health`, 'viewer');
    expect(health.status).toBe(200);
    expect(health.json.score).toBe(analysis.json.score);
    const reverified = await api(restarted, 'GET', '/api/v1/audit/verify', 'admin');
    expect(reverified.json).toMatchObject({ ok: true, problems: [] });
    expect(reverified.json.checkpoints).toBeGreaterThanOrEqual(1);
    const again = await stop(restarted, 'SIGINT');
    expect(again.code).toBe(0);
    expect(again.ms).toBeLessThan(15_000);
    expect([...processesMentioning(dataDir), ...processesMentioning(pgData)]).toEqual([]);
  }, 300_000);

  test('with the operator\'s own JWT_SECRET the starter prints no tokens', async () => {
    const own = await start({ ...env, JWT_SECRET: 'an-operator-chosen-secret-0123456789abcdef' });
    expect(own.tokens).toEqual({});
    expect(own.output()).not.toContain('Development tokens');
    expect((await stop(own, 'SIGTERM')).code).toBe(0);
  }, 120_000);

  test('an invalid setting exits with code 2 and one line naming the variable', () => {
    let failure: { status: number | null; stderr: string } = { status: 0, stderr: '' };
    try {
      execFileSync(process.execPath, [MAIN], { env: { ...process.env, ...env, PORT: 'eighty' }, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      failure = error as { status: number | null; stderr: string };
    }
    expect(failure.status).toBe(2);
    expect(failure.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^invalid setting PORT: /)]);
  });
});
