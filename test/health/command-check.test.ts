import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommandCheck } from '../../src/health/command-check';
import { commandCheckSchema } from '../../src/health/schemas';

const node = process.execPath;
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
  it('is ok on exit code 0 and runs in cwd', async () => {
    const sample = await runCommandCheck(
      command([node, '-e', "process.stdout.write(require('fs').readFileSync('marker.txt', 'utf8'))"]),
      { cwd },
    );
    expect(sample).toMatchObject({ ok: true, checkType: 'command', exitCode: 0, detail: 'exit code 0: present', check: `command ${node}` });
  });

  it('fails on a non-zero exit with the last output line as the reason', async () => {
    const sample = await runCommandCheck(command([node, '-e', "console.log('step 1'); console.error('service unavailable'); process.exit(3)"]), { cwd });
    expect(sample).toMatchObject({ ok: false, exitCode: 3, detail: 'exit code 3: service unavailable' });
  });

  it('fails on timeout', async () => {
    const started = Date.now();
    const sample = await runCommandCheck(command([node, '-e', 'setTimeout(() => {}, 30000)'], 300), { cwd });
    expect(sample).toMatchObject({ ok: false, detail: 'timed out after 300 ms' });
    expect(sample.exitCode).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails when the program does not exist', async () => {
    const sample = await runCommandCheck(command(['definitely-not-a-program-wpa']), { cwd });
    expect(sample.ok).toBe(false);
    expect(sample.detail).toMatch(/^could not start: .*ENOENT/);
  });
});
