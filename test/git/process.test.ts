import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { CommandStartError, OperationAbortedError, runCommand } from '../../src/git';

/** False once the process is gone or a zombie (containers may have no init to reap orphans). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilDead(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 50 && isAlive(pid); tries++) await new Promise((resolve) => setTimeout(resolve, 20));
  return !isAlive(pid);
}

describe('runCommand', () => {
  const dir = tmpdir();

  it('runs argv without a shell and reports exit code, output and timing', async () => {
    const result = await runCommand(dir, ['sh', '-c', 'printf "%s" "$1"; echo oops >&2; exit 3', 'sh', '$HOME; rm -rf /'], { timeoutMs: 5_000 });
    expect(result).toMatchObject({ exitCode: 3, signal: null, stdout: '$HOME; rm -rf /', stderr: 'oops\n', timedOut: false, stdoutTruncated: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    await expect(runCommand(dir, ['pwd'], { timeoutMs: 5_000 })).resolves.toMatchObject({ stdout: `${dir}\n`, exitCode: 0 });
  });

  it('passes a minimal environment plus the given variables, not the worker secrets', async () => {
    process.env.WPA_TEST_SECRET = 'do-not-leak';
    try {
      const result = await runCommand(dir, ['sh', '-c', 'echo "${WPA_TEST_SECRET:-unset} $EXTRA ${PATH:+has-path}"'], { timeoutMs: 5_000, env: { EXTRA: 'given' } });
      expect(result.stdout).toBe('unset given has-path\n');
    } finally {
      delete process.env.WPA_TEST_SECRET;
    }
  });

  it('keeps the head and the tail of long output', async () => {
    const result = await runCommand(dir, ['sh', '-c', 'echo first; seq 1 100000; echo last'], { timeoutMs: 5_000, maxOutputBytes: 200 });
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stdout.startsWith('first\n1\n2\n')).toBe(true);
    expect(result.stdout.endsWith('99999\n100000\nlast\n')).toBe(true);
    expect(result.stdout).toMatch(/\[\.\.\. \d+ bytes omitted \.\.\.\]/);
    expect(result.stdout.length).toBeLessThan(300);
  });

  it('kills the whole process group on timeout, with SIGKILL when SIGTERM is ignored', async () => {
    const started = Date.now();
    const script = 'sleep 30 & echo $!; trap "" TERM; while :; do sleep 1; done';
    const result = await runCommand(dir, ['sh', '-c', script], { timeoutMs: 300, killGraceMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(waitUntilDead(Number(result.stdout.trim()))).resolves.toBe(true);
  });

  it('does not leave background children behind after a normal exit', async () => {
    const started = Date.now();
    const result = await runCommand(dir, ['sh', '-c', 'sleep 30 & echo $!'], { timeoutMs: 10_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(waitUntilDead(Number(result.stdout.trim()))).resolves.toBe(true);
  });

  it('rejects with OperationAbortedError when aborted and CommandStartError for a missing program', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(runCommand(dir, ['sleep', '30'], { timeoutMs: 10_000, signal: controller.signal })).rejects.toBeInstanceOf(OperationAbortedError);
    await expect(runCommand(dir, ['sleep', '1'], { timeoutMs: 10_000, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(OperationAbortedError);
    await expect(runCommand(dir, ['no-such-program-wpa'], { timeoutMs: 1_000 })).rejects.toBeInstanceOf(CommandStartError);
    await expect(runCommand(dir, [], { timeoutMs: 1_000 })).rejects.toThrow('non-empty argv');
  });
});
