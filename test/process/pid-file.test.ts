/**
 * Pid files and the starter lock against real processes: a record proves a process is ours only while that very
 * process (pid, start time, command line) runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPidFile, removePidFile, runningRecordedProcess, stopProcess, writePidFile } from '../../src/process/pid-file';
import { identityOf } from '../../src/process/process-identity';
import { acquireStarterLock, StarterAlreadyRunningError, starterPidFile } from '../../src/starter-lock';

const children: ChildProcess[] = [];

/** A node process that lives until killed; with ignoreTerm it shrugs off SIGTERM. */
async function longLived(ignoreTerm = false): Promise<ChildProcess> {
  const script = `${ignoreTerm ? "process.on('SIGTERM', () => undefined);" : ''} setInterval(() => undefined, 1000); console.log('up');`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  await new Promise((resolve) => child.stdout?.once('data', resolve));
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('pid files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wpa-pid-files-'));
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  test('a record names a running process until it ends; then it is stale and ignored', async () => {
    const child = await longLived();
    const file = path.join(dir, 'child.pid');
    const record = await writePidFile(file, child.pid ?? -1);
    expect(record).toMatchObject({ pid: child.pid, argv: [process.execPath, '-e', expect.any(String)] });
    expect(record?.startTicks).toBeGreaterThan(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(readPidFile(file)).resolves.toEqual(record);
    await expect(runningRecordedProcess(file)).resolves.toEqual(record);

    child.kill('SIGKILL');
    await exited(child);
    await expect(runningRecordedProcess(file)).resolves.toBeUndefined();
  });

  test('pid 0 and negative pids (process groups to kill()) are never a process', async () => {
    await expect(identityOf(0)).resolves.toBeUndefined();
    await expect(identityOf(-process.pid)).resolves.toBeUndefined();
  });

  test('a live pid with another start time or command line is not the recorded process', async () => {
    const self = await identityOf(process.pid);
    const argv = (await writePidFile(path.join(dir, 'self.pid'), process.pid))?.argv ?? [];
    const reused = path.join(dir, 'reused.pid');
    writeFileSync(reused, JSON.stringify({ ...self, startTicks: (self?.startTicks ?? 0) + 1, argv }));
    await expect(runningRecordedProcess(reused)).resolves.toBeUndefined();
    const otherCommand = path.join(dir, 'other-command.pid');
    writeFileSync(otherCommand, JSON.stringify({ ...self, argv: ['/usr/bin/temporal', 'server', 'start-dev'] }));
    await expect(runningRecordedProcess(otherCommand)).resolves.toBeUndefined();
    const garbled = path.join(dir, 'garbled.pid');
    writeFileSync(garbled, `${process.pid}\n`);
    await expect(runningRecordedProcess(garbled)).resolves.toBeUndefined();
  });

  test('stopProcess sends the shutdown signal, then SIGKILL to a process that ignores it', async () => {
    const polite = await longLived();
    const stubborn = await longLived(true);
    const [politeId, stubbornId] = await Promise.all([identityOf(polite.pid ?? -1), identityOf(stubborn.pid ?? -1)]);
    if (!politeId || !stubbornId) throw new Error('both processes run');
    const started = Date.now();
    await stopProcess(politeId, 'SIGTERM', 5_000);
    await exited(polite);
    expect(polite.signalCode).toBe('SIGTERM');
    await stopProcess(stubbornId, 'SIGTERM', 300);
    await exited(stubborn);
    expect(stubborn.signalCode).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('removePidFile leaves a newer record alone', async () => {
    const file = path.join(dir, 'replaced.pid');
    const older = await longLived();
    const olderRecord = await writePidFile(file, older.pid ?? -1);
    const newerRecord = await writePidFile(file, process.pid);
    if (!olderRecord || !newerRecord) throw new Error('both processes run');
    await removePidFile(file, olderRecord);
    await expect(readPidFile(file)).resolves.toEqual(newerRecord);
    await removePidFile(file, newerRecord);
    await expect(readPidFile(file)).resolves.toBeUndefined();
  });
});

describe('the starter lock', () => {
  test('a second starter on a live one is refused with one sentence; a released or stale lock is taken', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'wpa-starter-lock-'));
    const lock = await acquireStarterLock(dataDir);
    const refused = await acquireStarterLock(dataDir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StarterAlreadyRunningError);
    expect((refused as Error).message).toBe(
      `Another workflow-patch-agent starter (pid ${process.pid}) is already running on the data folder ${dataDir}; stop it first (Ctrl-C in its terminal, or kill ${process.pid}), or set DATA_DIR to another folder.`,
    );
    await lock.release();
    await (await acquireStarterLock(dataDir)).release();

    // Left by a starter that was killed: its process is gone.
    const killed = await longLived();
    await writePidFile(starterPidFile(dataDir), killed.pid ?? -1);
    killed.kill('SIGKILL');
    await exited(killed);
    const taken = await acquireStarterLock(dataDir);
    await expect(readPidFile(starterPidFile(dataDir))).resolves.toMatchObject({ pid: process.pid });
    await taken.release();
  });
});
