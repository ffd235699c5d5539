/**
 * `wpa audit verify` in-process against a real database, as the service's role, with the same tampering the API
 * suite uses. (Finding the running embedded stack without DATABASE_URL is exercised by test/e2e/stack.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CliIo } from '../../src/cli/common';
import { main } from '../../src/cli/wpa';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { buildAnchoredChain, expectProblems, TEST_CHECKPOINT_KEY, tamperScenarios, untouched } from '../support/audit-trail';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function wpa(argv: string[], env: Record<string, string>): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    cwd: tmpdir(),
    env,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('wpa audit verify', () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-audit-cli-'));
    db = await createTestDatabase();
    await buildAnchoredChain(db, dataDir);
    env = { DATABASE_URL: db.url, DATA_DIR: dataDir, AUDIT_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY };
  });
  afterEach(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(`${untouched.name}: exit 0 and a short summary`, async () => {
    const run = await wpa(['audit', 'verify'], env);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'Audit trail: intact',
        '  events:       11, each hash and link checked',
        `  checkpoints:  2 (table audit_checkpoints and ${path.join(dataDir, 'audit-checkpoints.jsonl')})`,
        '',
      ].join('\n'),
    );
  });

  test.each(tamperScenarios)('$name: exit 1', async (scenario) => {
    await scenario.tamper(db);
    const json = await wpa(['audit', 'verify', '--format', 'json'], env);
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as { problems: string[] };
    expect(result).toMatchObject(scenario.expected);
    expectProblems(result.problems, scenario.problems);

    const text = await wpa(['audit', 'verify'], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^Audit trail: TAMPERED/);
    for (const problem of result.problems) expect(text.stdout).toContain(`    - ${problem}`);
  });

  test('the generated key file of the data folder is used when AUDIT_CHECKPOINT_KEY is unset', async () => {
    const { AUDIT_CHECKPOINT_KEY: _key, ...withoutKey } = env;
    const unchecked = await wpa(['audit', 'verify', '--format', 'json'], withoutKey);
    // Without any key the chain is still verified, and the summary says the checkpoints were not.
    expect(unchecked.code).toBe(0);
    expect(JSON.parse(unchecked.stdout)).toMatchObject({ ok: true, checkpoints: 2, problems: [expect.stringMatching(/checkpoints were not checked/)] });

    writeFileSync(path.join(dataDir, 'audit-checkpoint-key'), `${TEST_CHECKPOINT_KEY}\n`, { mode: 0o600 });
    const checked = await wpa(['audit', 'verify', '--format', 'json'], withoutKey);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toEqual({ ...untouched.expected, problems: [] });
  });

});

describe('wpa audit verify: usage and configuration errors exit 2', () => {
  let dataDir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-audit-cli-'));
    env = { DATABASE_URL: 'postgres://wpa:secret-password@127.0.0.1:1/wpa', DATA_DIR: dataDir, AUDIT_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY };
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test.each([
    [['audit'], /audit: expected the subcommand verify/],
    [['audit', 'check'], /audit: expected the subcommand verify/],
    [['audit', 'verify', 'now'], /unexpected argument now/],
    [['audit', 'verify', '--format', 'sarif'], /--format/],
    [['audit', 'verify', '--fail-on', 'high'], /--fail-on does not apply to audit verify/],
  ])('%j', async (argv, message) => {
    const run = await wpa(argv, env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  test('without DATABASE_URL and no embedded stack running: saying what to do', async () => {
    const run = await wpa(['audit', 'verify'], { DATA_DIR: dataDir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`DATABASE_URL is not set and no embedded database of ${dataDir} is running: start the stack with \`npm start\``);
  });

  test('a database that cannot be reached: without the password', async () => {
    const run = await wpa(['audit', 'verify'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^wpa: cannot connect to postgres:\/\/wpa:\*\*\*@127\.0\.0\.1:1\/wpa/);
    expect(run.stderr).not.toContain('secret-password');
  });

  test('an invalid setting: naming it', async () => {
    const run = await wpa(['audit', 'verify'], { ...env, AUDIT_CHECKPOINT_KEY: 'short' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/invalid setting AUDIT_CHECKPOINT_KEY/);
  });
});
