/**
 * The all-in-one starter after `kill -9`: the next start on the same data stops the Temporal dev server and the
 * PostgreSQL the dead one left running (found through their pid files), comes up with the data intact, and a
 * second starter on a live one exits 2 with one sentence.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { readPidFile, runningRecordedProcess } from '../../src/process/pid-file';
import { isRunning } from '../../src/process/process-identity';
import { runningPostmaster } from '../../src/store/postgres-server';
import { killProcessesMentioning, MAIN, processesMentioning, stackApi as api, stackEnv, startStack as start, stopStack as stop } from '../support/starter';

jest.setTimeout(300_000);

describe('npm start after a crash', () => {
  let dataDir = '';
  let env: NodeJS.ProcessEnv;
  let pgData = '';
  const devServerPidFile = (): string => path.join(dataDir, 'temporal-dev-server.pid');
  const starterPidFile = (): string => path.join(dataDir, 'starter.pid');
  /** The dev servers running on this data folder's database file. */
  const devServers = (): string[] => processesMentioning(path.join(dataDir, 'temporal.db')).filter((line) => line.includes('start-dev'));

  beforeAll(async () => {
    ({ dataDir, env } = await stackEnv('crash-'));
  });
  afterAll(() => {
    killProcessesMentioning(dataDir, pgData);
  });

  test('kill -9, then a second start on the same data stops the leftovers, keeps the data, and refuses a duplicate starter', async () => {
    const first = await start(env);
    pgData = realpathSync(path.join(dataDir, 'pg'));
    await expect(readPidFile(starterPidFile())).resolves.toMatchObject({ pid: first.child.pid });
    const target = await api(first, 'POST', '/api/v1/targets', 'admin', { name: 'org/survivor', repoUrl: '/tmp/survivor.git' });
    expect(target.status).toBe(201);

    expect((await stop(first, 'SIGKILL')).code).toBeNull();
    // What the killed starter left behind: its pid file, a dev server still holding the ports, a postmaster.
    const leftoverServer = await runningRecordedProcess(devServerPidFile());
    expect(leftoverServer).toBeDefined();
    const leftoverPostmaster = await runningPostmaster(pgData);
    expect(leftoverPostmaster).toBeDefined();
    expect(existsSync(starterPidFile())).toBe(true);

    const second = await start(env);
    process.stdout.write(`second start after kill -9: ready in ${second.readyMs} ms\n`);
    expect(second.readyMs).toBeLessThan(60_000);
    if (!leftoverServer || !leftoverPostmaster) throw new Error('the leftovers were checked above');
    await expect(isRunning(leftoverServer)).resolves.toBe(false);
    await expect(isRunning(leftoverPostmaster.identity)).resolves.toBe(false);
    // One dev server on the database file: the one the second starter recorded.
    const current = await runningRecordedProcess(devServerPidFile());
    expect(devServers().map((line) => Number(line.trim().split(/\s+/)[0]))).toEqual([current?.pid]);
    await expect(readPidFile(starterPidFile())).resolves.toMatchObject({ pid: second.child.pid });
    const kept = await api(second, 'GET', `/api/v1/targets/${String(target.json.id)}`, 'viewer');
    expect(kept.status).toBe(200);
    expect(kept.json).toMatchObject({ name: 'org/survivor' });

    const duplicate = spawnSync(process.execPath, [MAIN], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    expect(duplicate.status).toBe(2);
    expect(duplicate.stderr.trim().split('\n')).toEqual([
      `Another workflow-patch-agent starter (pid ${second.child.pid}) is already running on the data folder ${dataDir}; stop it first (Ctrl-C in its terminal, or kill ${second.child.pid}), or set DATA_DIR to another folder.`,
    ]);
    // The refused starter touched nothing: the live one still answers with its own dev server.
    expect((await api(second, 'GET', '/api/v1/whoami', 'viewer')).status).toBe(200);
    expect(devServers()).toHaveLength(1);

    expect((await stop(second, 'SIGTERM')).code).toBe(0);
    expect([...processesMentioning(dataDir), ...processesMentioning(pgData)]).toEqual([]);
    expect(existsSync(devServerPidFile())).toBe(false);
    expect(existsSync(starterPidFile())).toBe(false);
  });
});
