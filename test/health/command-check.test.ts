import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import type { SandboxSettings } from '../../src/domain/types';
import { runCommandCheck } from '../../src/health/command-check';
import { commandCheckSchema } from '../../src/health/schemas';
import type { SandboxConfig } from '../../src/sandbox';

const node = process.execPath;
/** The worker's default sandbox: commands run in bubblewrap, which must be installed (CI installs it). */
const sandbox: SandboxConfig = loadConfig({}).sandbox;
const settings: SandboxSettings = { network: false, env: {} };
let cwd: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'command-check-'));
  writeFileSync(join(cwd, 'marker.txt'), 'present');
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function command(argv: string[], timeoutMs?: number) {
  return commandCheckSchema.parse({ type: 'command', argv, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

describe('runCommandCheck', () => {
  it('is ok on exit code 0 and runs in the sandbox on a copy of cwd', async () => {
    const sample = await runCommandCheck(
      command([node, '-e', "process.stdout.write(require('fs').readFileSync('marker.txt', 'utf8') + ' in ' + process.cwd())"]),
      { cwd, settings, sandbox },
    );
    expect(sample).toMatchObject({ ok: true, checkType: 'command', exitCode: 0, detail: 'exit code 0: present in /workspace', check: `command ${node}` });
  });

  it('fails on a non-zero exit with the last output line as the reason', async () => {
    const sample = await runCommandCheck(command([node, '-e', "console.log('step 1'); console.error('service unavailable'); process.exit(3)"]), { cwd, settings, sandbox });
    expect(sample).toMatchObject({ ok: false, exitCode: 3, detail: 'exit code 3: service unavailable' });
  });

  it('fails on timeout', async () => {
    const started = Date.now();
    const sample = await runCommandCheck(command([node, '-e', 'setTimeout(() => {}, 30000)'], 300), { cwd, settings, sandbox });
    expect(sample).toMatchObject({ ok: false, detail: 'timed out after 300 ms' });
    expect(sample.exitCode).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails when the program does not exist', async () => {
    const sample = await runCommandCheck(command(['definitely-not-a-program-wpa']), { cwd, settings, sandbox });
    expect(sample).toMatchObject({ ok: false, detail: 'could not start: failed to execute definitely-not-a-program-wpa: No such file or directory' });
  });

  it('masks credentials and the values of declared variables in the detail', async () => {
    // Assembled by the shell, so neither this file nor the argv holds a scannable token.
    const check = command(['sh', '-c', 'printf "down: key %s token gh%s\\n" "$API_KEY" "p_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"; exit 1']);
    const sample = await runCommandCheck(check, { cwd, settings: { network: false, env: { API_KEY: 'declared-api-key-value' } }, sandbox });
    expect(sample).toMatchObject({ ok: false, exitCode: 1, detail: 'exit code 1: down: key [redacted: API_KEY] token ghp_****' });
  });

  it('fails without running the command where bubblewrap is missing, naming the fix', async () => {
    const sample = await runCommandCheck(command(['true']), { cwd, settings, sandbox: { ...sandbox, bwrapPath: '/nonexistent/bwrap' } });
    expect(sample).toMatchObject({ ok: false, checkType: 'command', check: 'command true', latencyMs: 0 });
    expect(sample.detail).toMatch(/^did not run: commands run only inside bubblewrap, which is not installed on this worker: .*apt-get install bubblewrap/);
  });

  it('says so in the detail when it ran unsandboxed (ALLOW_UNSANDBOXED_COMMANDS=true, no bubblewrap)', async () => {
    const sample = await runCommandCheck(command(['sh', '-c', 'echo fine']), { cwd, settings, sandbox: { ...sandbox, bwrapPath: '/nonexistent/bwrap', allowUnsandboxed: true } });
    expect(sample).toMatchObject({ ok: true, detail: 'exit code 0: fine (ran without a sandbox)' });
  });
});
