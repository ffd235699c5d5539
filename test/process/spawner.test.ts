import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runProcess } from '../../src/process/run-command';
import { ProcessSpawner, useProcessSpawner } from '../../src/process/spawner';
import { isLiveProcess } from '../support/processes';

const spawnerModule = require.resolve('../../src/process/spawner');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'wpa-spawner-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

async function until<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let tries = 0; tries < 250; tries++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A command that writes its own pid to `file`, then sleeps in its process: what a long git fetch looks like. */
function sleeperWritingPid(file: string): string[] {
  return ['sh', '-c', `echo $$ > "${file}"; exec sleep 60`];
}

const readPid = (file: string) => (existsSync(file) && readFileSync(file, 'utf8').trim() !== '' ? Number(readFileSync(file, 'utf8')) : undefined);

/** The process that started `sh`: the spawner when runs are routed through it, this process otherwise. */
async function parentOfRun(): Promise<number> {
  const result = await runProcess(['sh', '-c', 'echo $PPID'], { cwd: '/', env, timeoutMs: 10_000 });
  return Number(result.stdout.toString('utf8'));
}

describe('ProcessSpawner', () => {
  it('runs programs from its own process, not from this one', async () => {
    const spawner = await ProcessSpawner.start();
    try {
      const result = await spawner.run(['sh', '-c', 'echo $PPID; printf "\\377\\000" >&2; exit 4'], { cwd: '/', env, timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 4, signal: null, timedOut: false });
      expect(Number(result.stdout.toString('utf8'))).toBe(spawner.pid);
      expect(spawner.pid).not.toBe(process.pid);
      expect(Buffer.isBuffer(result.stderr) && result.stderr.equals(Buffer.from([0xff, 0x00]))).toBe(true);
    } finally {
      await spawner.stop();
    }
  });

  it('fails the runs of a spawner that died, kills their processes, and starts a new spawner for the next run', async () => {
    const spawner = await ProcessSpawner.start();
    try {
      const pidFile = join(scratch, 'pid');
      const running = spawner.run(sleeperWritingPid(pidFile), { cwd: '/', env, timeoutMs: 60_000 });
      const sleeper = await until(() => readPid(pidFile), 'the command to start');
      const firstSpawner = spawner.pid;
      process.kill(firstSpawner!, 'SIGKILL');
      await expect(running).rejects.toThrow(/process spawner ended \(signal SIGKILL\) while sh ran; its outcome is unknown/);
      await until(() => (isLiveProcess(sleeper) ? undefined : true), 'the orphaned command to be killed');
      const next = await spawner.run(['true'], { cwd: '/', env, timeoutMs: 10_000 });
      expect(next.exitCode).toBe(0);
      expect(spawner.pid).not.toBe(firstSpawner);
    } finally {
      await spawner.stop();
    }
  });

  it('cancels a run when its signal aborts, rejecting with the reason and killing the process group', async () => {
    const spawner = await ProcessSpawner.start();
    try {
      const pidFile = join(scratch, 'pid');
      const controller = new AbortController();
      const running = spawner.run(sleeperWritingPid(pidFile), { cwd: '/', env, timeoutMs: 60_000, signal: controller.signal });
      const sleeper = await until(() => readPid(pidFile), 'the command to start');
      controller.abort(new Error('activity cancelled'));
      await expect(running).rejects.toThrow('activity cancelled');
      await until(() => (isLiveProcess(sleeper) ? undefined : true), 'the cancelled command to be killed');
    } finally {
      await spawner.stop();
    }
  });

  it('refuses runs once stopped', async () => {
    const spawner = await ProcessSpawner.start();
    await spawner.stop();
    await expect(spawner.run(['true'], { cwd: '/', env, timeoutMs: 1_000 })).rejects.toThrow('the process spawner has been stopped');
  });

  it('kills what it runs and ends when the worker that forked it dies', async () => {
    const pidFile = join(scratch, 'pid');
    const script = `require(${JSON.stringify(spawnerModule)}).ProcessSpawner.start().then((s) => {
      console.log(s.pid);
      s.run(${JSON.stringify(sleeperWritingPid(pidFile))}, { cwd: '/', env: ${JSON.stringify(env)}, timeoutMs: 60_000 });
    });`;
    const worker = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let printed = '';
    worker.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
    const sleeper = await until(() => readPid(pidFile), 'the command to start');
    const spawnerPid = Number(printed.trim());
    expect(isLiveProcess(spawnerPid)).toBe(true);
    worker.kill('SIGKILL');
    await until(() => (isLiveProcess(sleeper) || isLiveProcess(spawnerPid) ? undefined : true), 'the spawner and its command to end');
  });

  it('does not keep an idle process alive', async () => {
    const script = `require(${JSON.stringify(spawnerModule)}).ProcessSpawner.start()
      .then((s) => s.run(['true'], { cwd: '/', env: {}, timeoutMs: 10_000 }))
      .then((r) => console.log('exit', r.exitCode));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 20_000 });
    expect(stdout).toBe('exit 0\n');
  });
});

describe('useProcessSpawner', () => {
  it('routes runProcess through one spawner until its last user releases it', async () => {
    expect(await parentOfRun()).toBe(process.pid);
    const releaseFirst = await useProcessSpawner();
    const releaseSecond = await useProcessSpawner();
    const spawnerPid = await parentOfRun();
    expect(spawnerPid).not.toBe(process.pid);
    await releaseFirst();
    await releaseFirst();
    expect(await parentOfRun()).toBe(spawnerPid);
    await releaseSecond();
    expect(await parentOfRun()).toBe(process.pid);
    expect(isLiveProcess(spawnerPid)).toBe(false);
  });
});
