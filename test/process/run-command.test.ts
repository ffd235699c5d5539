import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand, runProcess } from '../../src/process/run-command';
import { useProcessSpawner } from '../../src/process/spawner';
import { isLiveProcess } from '../support/processes';

const node = process.execPath;
const cwd = tmpdir();

async function waitUntilDead(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 50 && isLiveProcess(pid); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isLiveProcess(pid);
}

// Every behaviour holds alike whether the process is spawned here or by a worker's process spawner.
describe.each([
  ['spawned here', false],
  ['through the process spawner', true],
])('%s', (_where, throughSpawner) => {
  let releaseSpawner: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (throughSpawner) releaseSpawner = await useProcessSpawner();
  });
  afterAll(async () => {
    await releaseSpawner?.();
  });

  describe('runCommand', () => {
    it('passes arguments verbatim, without a shell', async () => {
      const result = await runCommand([node, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '$(echo hi)', 'a; rm -rf x', '*'], {
        cwd,
        timeoutMs: 10_000,
      });
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(['$(echo hi)', 'a; rm -rf x', '*']);
    });

    it('runs in cwd and reports exit code, signal, stdout and stderr separately', async () => {
      const result = await runCommand(['sh', '-c', 'pwd; echo oops >&2; exit 3'], { cwd, timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 3, signal: null, stdout: `${cwd}\n`, stderr: 'oops\n', timedOut: false, stdoutTruncated: false });
      expect(result.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('gives the child a minimal environment plus the requested variables', async () => {
      process.env.WPA_TEST_PARENT_SECRET = 'parent-only';
      try {
        const result = await runCommand(
          [node, '-e', 'console.log(JSON.stringify([process.env.WPA_TEST_PARENT_SECRET ?? null, process.env.EXTRA, !!process.env.PATH]))'],
          { cwd, timeoutMs: 10_000, env: { EXTRA: 'yes' } },
        );
        expect(JSON.parse(result.stdout)).toEqual([null, 'yes', true]);
      } finally {
        delete process.env.WPA_TEST_PARENT_SECRET;
      }
    });

    it('writes input to stdin', async () => {
      const result = await runCommand([node, '-e', "process.stdin.pipe(process.stdout)"], { cwd, timeoutMs: 10_000, input: 'diff text\n' });
      expect(result.stdout).toBe('diff text\n');
    });

    it('keeps the head and tail of long output', async () => {
      const script = "process.stdout.write('HEAD' + 'x'.repeat(100000) + 'TAIL'); process.stderr.write('short')";
      const result = await runCommand([node, '-e', script], { cwd, timeoutMs: 10_000, maxOutputBytes: 1000 });
      expect(result).toMatchObject({ stdoutTruncated: true, stderrTruncated: false });
      expect(result.stdout.startsWith('HEAD')).toBe(true);
      expect(result.stdout.endsWith('TAIL')).toBe(true);
      expect(result.stdout).toContain('[... 99008 bytes truncated ...]');
      expect(result.stderr).toBe('short');
    });

    it('reports exit codes and start errors without rejecting', async () => {
      expect((await runCommand([node, '-e', 'process.exit(7)'], { cwd, timeoutMs: 10_000 })).exitCode).toBe(7);
      const missing = await runCommand(['wpa-no-such-program'], { cwd, timeoutMs: 10_000 });
      expect(missing).toMatchObject({ exitCode: null, timedOut: false });
      expect(missing.startError).toMatch(/ENOENT/);
    });

    it('kills the whole process group on timeout, including grandchildren holding the pipes', async () => {
      const script = "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' }); setTimeout(() => {}, 60000)";
      const started = Date.now();
      const result = await runCommand([node, '-e', script], { cwd, timeoutMs: 300 });
      expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('does not wait for background children once the command exited, and kills them', async () => {
      const script =
        "const c = require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' }); c.unref(); console.log(c.pid)";
      const result = await runCommand([node, '-e', script], { cwd, timeoutMs: 30_000 });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: expect.stringMatching(/^\d+\n$/) });
      expect(result.durationMs).toBeLessThan(5_000);
      await expect(waitUntilDead(Number(result.stdout.trim()))).resolves.toBe(true);
    });

    it('kills the background children of the group on timeout, after killGraceMs when SIGTERM is ignored', async () => {
      const started = Date.now();
      const script = 'sleep 30 & echo $!; trap "" TERM; while :; do sleep 1; done';
      const result = await runCommand(['sh', '-c', script], { cwd, timeoutMs: 300, killGraceMs: 200 });
      expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
      expect(Date.now() - started).toBeLessThan(3_000);
      await expect(waitUntilDead(Number(result.stdout.trim()))).resolves.toBe(true);
    });

    it('escalates to SIGKILL when the process ignores SIGTERM', async () => {
      const script = "process.on('SIGTERM', () => {}); console.log('ready'); setTimeout(() => {}, 60000)";
      // Long enough for node to install the handler even on a busy machine.
      const result = await runCommand([node, '-e', script], { cwd, timeoutMs: 1_500 });
      expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
      expect(result.stdout).toBe('ready\n');
    });

    it('rejects with the reason when cancelled', async () => {
      const controller = new AbortController();
      const pending = runCommand([node, '-e', 'setTimeout(() => {}, 60000)'], { cwd, timeoutMs: 60_000, signal: controller.signal });
      setTimeout(() => controller.abort(new Error('cancelled by workflow')), 100);
      await expect(pending).rejects.toThrow('cancelled by workflow');
      await expect(runCommand(['sleep', '1'], { cwd, timeoutMs: 10_000, signal: AbortSignal.abort(new Error('already cancelled')) })).rejects.toThrow(
        'already cancelled',
      );
    });

    it('rejects an empty argv', async () => {
      await expect(runCommand([], { cwd, timeoutMs: 1_000 })).rejects.toThrow(/argv must not be empty/);
    });
  });

  describe('runProcess', () => {
    it('returns bytes and gives the child exactly the given environment', async () => {
      process.env.WPA_TEST_PARENT_SECRET = 'parent-only';
      try {
        const script = "process.stdout.write(Buffer.from([0xff, 0x00, 0x41])); process.stderr.write(JSON.stringify(process.env))";
        const result = await runProcess([node, '-e', script], { cwd, env: { ONLY: 'this' }, timeoutMs: 10_000 });
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toEqual(Buffer.from([0xff, 0x00, 0x41]));
        expect(JSON.parse(result.stderr.toString('utf8'))).toEqual({ ONLY: 'this' });
      } finally {
        delete process.env.WPA_TEST_PARENT_SECRET;
      }
    });

    it('reports the start error itself, with its code', async () => {
      const result = await runProcess([node, '-e', ''], { cwd: join(cwd, 'wpa-no-such-folder'), env: {}, timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: null, startError: expect.objectContaining({ code: 'ENOENT' }) });
    });

    it('rejects a timeout that is not positive', async () => {
      await expect(runProcess([node, '-e', ''], { cwd, env: {}, timeoutMs: 0 })).rejects.toThrow(/timeoutMs must be positive/);
    });
  });
});
