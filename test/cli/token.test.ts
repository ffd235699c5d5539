/**
 * `wpa token`: tokens minted from the starter's secret file (or JWT_SECRET) are accepted by the real
 * authenticator, within the server's maximum lifetime; every mistake is a one-line usage error.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { createAuthenticator } from '../../src/api/auth';
import type { CliIo } from '../../src/cli/common';
import { main } from '../../src/cli/wpa';
import { loadConfig } from '../../src/config';

const SECRET = 'a-secret-the-starter-generated-0123456789abcdef';

async function wpa(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, cwd: tmpdir(), env };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('wpa token', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'wpa-token-'));
    writeFileSync(path.join(dataDir, 'jwt-secret'), `${SECRET}\n`, { mode: 0o600 });
  });

  test('mints a 12-hour token from DATA_DIR/jwt-secret that the API accepts', async () => {
    const run = await wpa(['token', '--sub', 'alice', '--role', 'guardian', '--role', 'viewer'], { DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(12 * 3600);
    const authenticate = createAuthenticator(loadConfig({ JWT_SECRET: SECRET }).auth);
    await expect(authenticate(token)).resolves.toEqual({ subject: 'alice', roles: ['guardian', 'viewer'] });
    expect(run.stderr).toContain('valid until');
  });

  test('JWT_SECRET wins over the file, and --ttl is honoured', async () => {
    const other = 'an-operator-secret-0123456789-0123456789';
    const run = await wpa(['token', '--sub', 'bob', '--role', 'admin', '--ttl', '30m'], { DATA_DIR: dataDir, JWT_SECRET: other });
    const token = run.stdout.trim();
    await expect(createAuthenticator(loadConfig({ JWT_SECRET: other }).auth)(token)).resolves.toEqual({ subject: 'bob', roles: ['admin'] });
    await expect(createAuthenticator(loadConfig({ JWT_SECRET: SECRET }).auth)(token)).rejects.toMatchObject({ status: 401 });
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1800);
  });

  test('--group puts groups in the token, which the API reads for distinct-group quorums', async () => {
    const run = await wpa(['token', '--sub', 'carol', '--role', 'guardian', '--group', 'sre', '--group', 'security'], { DATA_DIR: dataDir });
    expect(run.code).toBe(0);
    await expect(createAuthenticator(loadConfig({ JWT_SECRET: SECRET }).auth)(run.stdout.trim())).resolves.toEqual({ subject: 'carol', roles: ['guardian'], groups: ['sre', 'security'] });
    expect(run.stderr).toContain('groups sre, security');
  });

  test.each<[string, string[], Record<string, string>, RegExp]>([
    ['a two-line group', ['--sub', 'a', '--role', 'guardian', '--group', 'sre\nadmins'], {}, /--group.*: must be one line/],
    ['no subject', ['--role', 'viewer'], {}, /--sub: is required/],
    ['a two-line subject', ['--sub', 'a\nApproved-by: ceo', '--role', 'viewer'], {}, /--sub: must be one line/],
    ['no role', ['--sub', 'a'], {}, /--role: is required/],
    ['an unknown role', ['--sub', 'a', '--role', 'root'], {}, /--role/],
    ['a bad duration', ['--sub', 'a', '--role', 'viewer', '--ttl', 'forever'], {}, /--ttl: must be a duration/],
    ['a lifetime over the maximum', ['--sub', 'a', '--role', 'viewer', '--ttl', '30d'], {}, /longer than the server accepts/],
    ['a lifetime over a lowered maximum', ['--sub', 'a', '--role', 'viewer', '--ttl', '2h'], { JWT_MAX_LIFETIME_SECONDS: '3600' }, /JWT_MAX_LIFETIME_SECONDS=3600/],
    ['a JWKS setup', ['--sub', 'a', '--role', 'viewer'], { JWT_JWKS_URL: 'https://id.example.com/jwks' }, /identity provider/],
    ['an analyze flag', ['--sub', 'a', '--role', 'viewer', '--fail-on', 'high'], {}, /--fail-on does not apply to token/],
  ])('refuses %s with exit code 2 and one line', async (_name, args, env, message) => {
    const run = await wpa(['token', ...args], { DATA_DIR: dataDir, ...env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
  });

  test('without a secret anywhere it says where one comes from', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'wpa-token-empty-'));
    const run = await wpa(['token', '--sub', 'a', '--role', 'viewer'], { DATA_DIR: empty });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('npm start');
  });

  test('token flags on other commands are refused', async () => {
    const run = await wpa(['rules', '--sub', 'x'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--sub applies to token, not rules');
  });
});
