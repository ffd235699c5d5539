/**
 * The sandbox with the real bubblewrap, setpriv and prlimit, real processes and a real loopback HTTP server. These
 * tests fail (they do not skip) where bubblewrap is missing: CI installs it (.ci/run).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import type { SandboxSettings } from '../../src/domain/types';
import { runSandboxed, type SandboxConfig, type SandboxedResult, SandboxUnavailableError } from '../../src/sandbox';

const node = process.execPath;
const MISSING_BWRAP = '/nonexistent/wpa-test/bwrap';
const REFUSAL =
  'commands run only inside bubblewrap, which is not installed on this worker: install the package bubblewrap ' +
  '(Debian/Ubuntu: apt-get install bubblewrap), or set ALLOW_UNSANDBOXED_COMMANDS=true on a development machine';

/** 0755, so the sandbox user reaches SANDBOX_DIR inside it (like the default under /tmp). */
let scratch: string;
/** The worker's data directory, with a secret in it. */
let dataDir: string;
/** A git checkout in a 0700 folder, like the worker's clones. */
let checkoutDir: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'wpa-sandbox-test-'));
  chmodSync(scratch, 0o755);
  dataDir = path.join(scratch, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(path.join(dataDir, 'jwt-secret'), 'the-data-dir-secret');
  const privateParent = mkdtempSync(path.join(dataDir, 'work-'));
  checkoutDir = path.join(privateParent, 'checkout');
  mkdirSync(checkoutDir);
  writeFileSync(path.join(checkoutDir, 'marker.txt'), 'from the checkout\n');
  execFileSync('git', ['init', '-q', checkoutDir]);
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sandboxConfig(overrides: Partial<SandboxConfig> = {}): SandboxConfig {
  return { ...loadConfig({ SANDBOX_DIR: path.join(scratch, 'sandbox'), DATA_DIR: dataDir }).sandbox, ...overrides };
}

interface RunOptions {
  settings?: Partial<SandboxSettings>;
  config?: Partial<SandboxConfig>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

function run(argv: string[], options: RunOptions = {}): Promise<SandboxedResult> {
  return runSandboxed(argv, {
    sourceDir: checkoutDir,
    settings: { network: false, env: {}, ...options.settings },
    config: sandboxConfig(options.config),
    timeoutMs: options.timeoutMs ?? 30_000,
    signal: options.signal,
  });
}

function sh(script: string, options: RunOptions = {}): Promise<SandboxedResult> {
  return run(['sh', '-c', script], options);
}

function runDirs(): string[] {
  return readdirSync(path.join(scratch, 'sandbox'));
}

/** Processes on the host whose argv is exactly `argv`. */
function processesWithArgv(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).flatMap((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === wanted ? [Number(pid)] : [];
    } catch {
      return [];
    }
  });
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe('runSandboxed', () => {
  describe('environment', () => {
    const workerSecrets = { JWT_SECRET: 'worker-jwt-secret-0123456789-abcdefghij', DATABASE_URL: 'postgres://wpa:hunter2@db.internal/wpa' };
    beforeEach(() => Object.assign(process.env, workerSecrets));
    afterEach(() => {
      for (const name of Object.keys(workerSecrets)) delete process.env[name];
    });

    it("does not pass on the worker's environment", async () => {
      const result = await run(['env']);
      expect(result).toMatchObject({ exitCode: 0, isolation: 'bubblewrap' });
      expect(result.stdout).not.toContain('JWT_SECRET');
      expect(result.stdout).not.toContain('DATABASE_URL');
      expect(result.stdout).not.toContain(workerSecrets.JWT_SECRET);
    });

    it("sees exactly the target's declared variables besides PATH, HOME, TMPDIR and LANG", async () => {
      const result = await run(['env'], { settings: { env: { NPM_TOKEN: 'declared-npm-token', REGION: 'eu' } } });
      const variables = Object.fromEntries(result.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
      expect(variables).toEqual({
        PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        HOME: '/tmp/home',
        TMPDIR: '/tmp',
        LANG: 'C.UTF-8',
        NPM_TOKEN: 'declared-npm-token',
        REGION: 'eu',
        // Set by bwrap's --chdir.
        PWD: '/workspace',
      });
    });
  });

  describe('file system', () => {
    it('cannot write outside its copy of the checkout', async () => {
      const hostTmpFile = path.join(tmpdir(), `wpa-sandbox-escape-${randomUUID()}`);
      const targets = ['/usr/wpa-escape', '/etc/wpa-escape', '/wpa-escape', path.join(dataDir, 'wpa-escape'), hostTmpFile, 'written-in-workspace'];
      const result = await sh(`for file in ${targets.join(' ')}; do if touch "$file" 2>/dev/null; then echo "wrote $file"; else echo "refused $file"; fi; done`);
      expect(result.stdout.trim().split('\n')).toEqual([
        'refused /usr/wpa-escape',
        'refused /etc/wpa-escape',
        'refused /wpa-escape',
        `refused ${path.join(dataDir, 'wpa-escape')}`,
        // Its /tmp is private: the file is gone with the sandbox, the host's /tmp never sees it.
        `wrote ${hostTmpFile}`,
        'wrote written-in-workspace',
      ]);
      expect(existsSync(hostTmpFile)).toBe(false);
      expect(existsSync(path.join(dataDir, 'wpa-escape'))).toBe(false);
      expect(existsSync(path.join(checkoutDir, 'written-in-workspace'))).toBe(false);
    });

    it("cannot read /root, /home or the worker's data directory", async () => {
      const result = await sh(`for place in /root /home ${dataDir}/jwt-secret; do if cat "$place" >/dev/null 2>&1 || ls "$place" >/dev/null 2>&1; then echo "read $place"; else echo "no $place"; fi; done`);
      expect(result.stdout.trim().split('\n')).toEqual(['no /root', 'no /home', `no ${dataDir}/jwt-secret`]);
    });

    it('works on a copy of a checkout that lies in a 0700 folder, with .git, and removes the copy afterwards', async () => {
      expect(statSync(path.dirname(checkoutDir)).mode & 0o777).toBe(0o700);
      const result = await sh('pwd; test -d .git && echo has-git; cat marker.txt; echo changed > marker.txt');
      expect(result).toMatchObject({ exitCode: 0, stdout: '/workspace\nhas-git\nfrom the checkout\n' });
      expect(readFileSync(path.join(checkoutDir, 'marker.txt'), 'utf8')).toBe('from the checkout\n');
      expect(runDirs()).toEqual([]);
    });

    it('runs as the unprivileged sandbox user, also as the host kernel sees it', async () => {
      const result = await sh('id -u; id -g; id -G');
      expect(result.stdout).toBe('65534\n65534\n65534\n');
      const sleeper = ['sleep', `${2 + Math.random()}`];
      const running = run(sleeper);
      await waitFor(() => processesWithArgv(sleeper).length > 0, 'the sleeper runs');
      const [pid] = processesWithArgv(sleeper);
      const hostView = readFileSync(`/proc/${pid}/status`, 'utf8');
      // Real, effective, saved and file system ids: 65534 when the worker is root (setpriv), else the worker's own.
      const expected = process.getuid?.() === 0 ? 65534 : process.getuid?.();
      expect(hostView).toMatch(new RegExp(`^Uid:\\t${expected}\\t${expected}\\t${expected}\\t${expected}$`, 'm'));
      expect(hostView).toMatch(/^CapEff:\t0+$/m);
      expect(await running).toMatchObject({ exitCode: 0 });
    });
  });

  describe('network', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((_request, response) => response.end('reached'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const fetchUrl = (): string[] => [node, '-e', `fetch(process.argv[1]).then(async (r) => console.log(await r.text()), (e) => { console.log(e.cause?.code ?? e.message); process.exit(3); })`, url];

    it("has none by default: the worker's loopback server is unreachable", async () => {
      expect(await run(fetchUrl())).toMatchObject({ exitCode: 3, stdout: 'ECONNREFUSED\n' });
    });

    it('reaches the server when the target allows network access', async () => {
      expect(await run(fetchUrl(), { settings: { network: true } })).toMatchObject({ exitCode: 0, stdout: 'reached\n' });
    });
  });

  describe('limits', () => {
    it('stops a fork bomb at the process limit', async () => {
      const started = Date.now();
      // Bounded, so a broken limit cannot take the machine down: 60 sleepers against a limit of 20.
      const result = await sh('i=0; while [ $i -lt 60 ]; do sleep 30 & i=$((i+1)); done; wait', { config: { maxProcesses: 20 } });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain('Cannot fork');
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('stops a memory hog at the memory limit, while a small program runs', async () => {
      const hog = [node, '-e', 'const kept = []; for (let i = 0; i < 8; i++) kept.push(Buffer.alloc(64 * 1024 * 1024, 1)); console.log("allocated")'];
      const stopped = await run(hog, { config: { memoryMb: 256 } });
      expect(stopped.exitCode).not.toBe(0);
      expect(stopped.stderr).toContain('Array buffer allocation failed');
      expect(await run([node, '-e', 'console.log(Buffer.alloc(64 * 1024 * 1024, 1).length)'], { config: { memoryMb: 256 } })).toMatchObject({ exitCode: 0 });
    });

    it('stops a CPU spinner at the CPU time limit, long before the wall clock', async () => {
      const result = await sh('while :; do :; done', { config: { cpuSeconds: 1 }, timeoutMs: 30_000 });
      expect(result).toMatchObject({ exitCode: null, signal: 'SIGXCPU', timedOut: false });
      expect(result.durationMs).toBeLessThan(10_000);
    });

    it('stops a sleeper at the wall clock', async () => {
      const result = await run(['sleep', '60'], { timeoutMs: 500 });
      expect(result).toMatchObject({ exitCode: null, timedOut: true });
      expect(result.durationMs).toBeLessThan(5_000);
      expect(runDirs()).toEqual([]);
    });

    it('kills the command when the run is aborted, and removes the copy', async () => {
      const sleeper = ['sleep', `${1000 + Math.floor(Math.random() * 1000)}.25`];
      const controller = new AbortController();
      const pending = run(sleeper, { signal: controller.signal });
      await waitFor(() => processesWithArgv(sleeper).length > 0, 'the sleeper runs');
      controller.abort(new Error('the activity was cancelled'));
      await expect(pending).rejects.toThrow('the activity was cancelled');
      await waitFor(() => processesWithArgv(sleeper).length === 0, 'the sleeper is gone');
      expect(runDirs()).toEqual([]);
    });
  });

  describe('without a working bubblewrap', () => {
    it('refuses, naming the fix', async () => {
      const refused = run(['true'], { config: { bwrapPath: MISSING_BWRAP } });
      await expect(refused).rejects.toThrow(SandboxUnavailableError);
      await expect(refused).rejects.toThrow(REFUSAL);
    });

    it("refuses with bwrap's own reason when it cannot create the sandbox", async () => {
      const refused = run(['true'], { config: { readOnlyPaths: ['/nonexistent/wpa-test/toolchain'] } });
      await expect(refused).rejects.toThrow(
        "commands run only inside bubblewrap, which cannot create a sandbox on this worker (bwrap: Can't find source path /nonexistent/wpa-test/toolchain: No such file or directory): fix that",
      );
    });

    it('runs unsandboxed with the minimal environment and the declared variables when ALLOW_UNSANDBOXED_COMMANDS=true', async () => {
      process.env.JWT_SECRET = 'worker-jwt-secret-0123456789-abcdefghij';
      try {
        const result = await run(['env'], { config: { bwrapPath: MISSING_BWRAP, allowUnsandboxed: true }, settings: { env: { REGION: 'eu' } } });
        expect(result).toMatchObject({ exitCode: 0, isolation: 'unsandboxed' });
        expect(result.isolationNote).toBe('ran WITHOUT a sandbox: bubblewrap is not installed on this worker, and ALLOW_UNSANDBOXED_COMMANDS=true');
        expect(result.stdout).toContain('REGION=eu\n');
        expect(result.stdout).not.toContain('JWT_SECRET');
      } finally {
        delete process.env.JWT_SECRET;
      }
    });

    it('still uses bubblewrap where it works, even when unsandboxed runs are allowed', async () => {
      expect(await run(['true'], { config: { allowUnsandboxed: true } })).toMatchObject({ exitCode: 0, isolation: 'bubblewrap' });
    });
  });

  it('reports a program that does not exist as a start error', async () => {
    const result = await run(['./no-such-program']);
    expect(result).toMatchObject({ exitCode: null, startError: 'failed to execute ./no-such-program: No such file or directory' });
  });
});
