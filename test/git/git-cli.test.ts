import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandStartError, OperationAbortedError } from '../../src/git';
import { runGit } from '../../src/git/git-cli';

describe('runGit', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wpa-git-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives git its own environment, not the worker secrets', async () => {
    process.env.WPA_TEST_SECRET = 'do-not-leak';
    try {
      const { stdout } = await runGit(dir, ['-c', 'alias.showenv=!env', 'showenv'], {});
      const env = stdout.toString('utf8');
      expect(env).not.toContain('WPA_TEST_SECRET');
      expect(env).toMatch(/^GIT_TERMINAL_PROMPT=0$/m);
      expect(env).toMatch(/^PATH=/m);
    } finally {
      delete process.env.WPA_TEST_SECRET;
    }
  });

  it('rejects with OperationAbortedError when aborted, before or while git runs', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(runGit(dir, ['-c', 'alias.slow=!sleep 30', 'slow'], { signal: controller.signal })).rejects.toBeInstanceOf(OperationAbortedError);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect(runGit(dir, ['--version'], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(OperationAbortedError);
  });

  it('rejects with CommandStartError when git cannot start', async () => {
    const error: unknown = await runGit(join(dir, 'missing'), ['--version'], {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandStartError);
    expect((error as CommandStartError).program).toBe('git');
  });
});
