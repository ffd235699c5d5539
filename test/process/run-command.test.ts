import { tmpdir } from 'node:os';
import { runCommand } from '../../src/process/run-command';

const node = process.execPath;
const cwd = tmpdir();

describe('runCommand', () => {
  it('passes arguments verbatim, without a shell', async () => {
    const result = await runCommand([node, '-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '$(echo hi)', 'a; rm -rf x', '*'], {
      cwd,
      timeoutMs: 10_000,
    });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(['$(echo hi)', 'a; rm -rf x', '*']);
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

  it('does not wait for background children once the command exited', async () => {
    const script =
      "require('child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' }).unref(); console.log('done')";
    const result = await runCommand([node, '-e', script], { cwd, timeoutMs: 30_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: 'done\n' });
    expect(result.durationMs).toBeLessThan(5_000);
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
  });

  it('rejects an empty argv', async () => {
    await expect(runCommand([], { cwd, timeoutMs: 1_000 })).rejects.toThrow(/argv must not be empty/);
  });
});
