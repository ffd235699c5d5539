/**
 * The stack the lifecycle benchmarks measure: a Temporal dev server and embedded PostgreSQL in a private temporary
 * folder, and the real worker and the real API each in a process of its own (as `npm run start:worker` and
 * `npm run start:api` run them, so the worker's memory is its own), bare git repositories as targets and an HTTP
 * health endpoint per target whose answers the benchmark sets.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import pino from 'pino';
import { signToken } from '../src/api/dev-tokens';
import { loadConfig } from '../src/config';
import type { PatchStatus, Role } from '../src/domain/types';
import { ensureEmbeddedAppRole, startEmbeddedPostgres } from '../src/store/embedded-postgres';
import { openServiceDatabase } from '../src/store/service-database';
import { resolveTemporalExecutable } from '../src/temporal/binaries';
import { startDevServer } from '../src/temporal/dev-server';
import { prepareNamespace } from '../src/temporal/schedules';
import { freePort } from '../src/util/free-port';

/** The workflow file every bench target starts with: two jobs, the shape most of the corpus has. */
export const BENCH_WORKFLOW = [
  'name: ci',
  'on: [push, pull_request]',
  'permissions:',
  '  contents: read',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '      - run: make build',
  '  test:',
  '    runs-on: ubuntu-latest',
  '    needs: build',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '      - run: make test',
  '',
].join('\n');

export const BENCH_WORKFLOW_PATH = '.github/workflows/ci.yml';

/** The patch every lifecycle benchmark rolls out: a job time limit, which the analyzer approves and no rule finds risky. */
export const BENCH_DIFF = [
  `diff --git a/${BENCH_WORKFLOW_PATH} b/${BENCH_WORKFLOW_PATH}`,
  `--- a/${BENCH_WORKFLOW_PATH}`,
  `+++ b/${BENCH_WORKFLOW_PATH}`,
  '@@ -5,6 +5,7 @@ permissions:',
  ' jobs:',
  '   build:',
  '     runs-on: ubuntu-latest',
  '+    timeout-minutes: 15',
  '     steps:',
  '       - uses: actions/checkout@v4',
  '       - run: make build',
  '',
].join('\n');

export interface BenchTarget {
  id: string;
  name: string;
  /** The bare repository the target's URL names. */
  repoPath: string;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** The API as people use it: JSON over HTTP with a bearer token of the role. */
export interface BenchApi {
  url: string;
  /** The Authorization header of a caller with the role, for clients of the bench's own (load generators). */
  authorization(role: Role): string;
  request(method: string, route: string, options?: { role?: Role; body?: unknown }): Promise<ApiAnswer>;
  /** Like request, but an answer outside 2xx throws with the problem it names. */
  call<T>(method: string, route: string, options?: { role?: Role; body?: unknown }): Promise<T>;
}

/** Answers of the targets' health endpoints, and when each target first answered a failure. */
export interface HealthControl {
  /** Sets the status a target's endpoint answers (200 until set). */
  set(targetName: string, status: number): void;
  /** When the target's endpoint first answered something other than 200 since the last reset, in ms since the epoch. */
  firstFailureAt(targetName: string): number | undefined;
  reset(): void;
}

export interface WorkerProcess {
  pid: number;
  /** Resident memory of the worker process now, in bytes (Linux /proc). */
  rssBytes(): number;
}

export interface BenchStack {
  dir: string;
  taskQueue: string;
  temporalAddress: string;
  /** A Temporal client of the bench (queries, baselines). */
  client: Client;
  /** The service role's pool, for seeding the read model directly. */
  pool: Pool;
  api: BenchApi;
  health: HealthControl;
  worker(): WorkerProcess;
  /** Stops the worker (with allInOne, the API too) and starts a new one with these extra settings (e.g. cache sizes). */
  restartWorker(env?: Record<string, string>): Promise<void>;
  createTargets(count: number, options?: { monitored?: boolean; prefix?: string }): Promise<BenchTarget[]>;
  /**
   * Polls GET /patches/:id (a workflow query while the patch runs) until it has one of the statuses. The interval
   * (default 50 ms) is load on the worker: measurements taken from event times poll slower.
   */
  waitForPatch(id: string, statuses: readonly PatchStatus[], options?: { timeoutMs?: number; intervalMs?: number }): Promise<{ status: PatchStatus; at: number }>;
  stop(): Promise<void>;
}

export interface BenchStackOptions {
  /** Extra settings for the worker process (WORKER_* tuning). */
  workerEnv?: Record<string, string>;
  /**
   * One process runs the worker and the API, as `npm start` does (src/main.ts, here against the stack's Temporal
   * and PostgreSQL); by default they are two processes, so the worker's memory is its own.
   */
  allInOne?: boolean;
  log?: (line: string) => void;
}

const repoRoot = path.resolve(__dirname, '..', '..');
const distEntry = (file: string): string => path.join(repoRoot, 'dist', 'src', file);
const READY_TIMEOUT_MS = 120_000;

function git(cwd: string, args: string[]): void {
  execFileSync('git', args, { cwd, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@localhost', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@localhost' } });
}

const execFileAsync = promisify(execFile);

/** git as the baselines' plain scripts run it (an identity for commits and reverts). */
export async function gitCommand(cwd: string, args: string[]): Promise<void> {
  await execFileAsync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args], { cwd });
}

/** A bare repository on branch main holding `files`, made from a throwaway seed checkout. */
export function createBareRepository(parentDir: string, name: string, files: Record<string, string>): string {
  const seed = path.join(parentDir, `${name}-seed`);
  mkdirSync(seed, { recursive: true });
  git(seed, ['init', '-q', '-b', 'main']);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(seed, file)), { recursive: true });
    writeFileSync(path.join(seed, file), text);
  }
  git(seed, ['add', '-A']);
  git(seed, ['commit', '-q', '-m', 'seed']);
  const bare = path.join(parentDir, `${name}.git`);
  git(parentDir, ['clone', '-q', '--bare', seed, bare]);
  rmSync(seed, { recursive: true, force: true });
  return bare;
}

function startHealthServer(): Promise<{ server: Server; url: string; control: HealthControl }> {
  const answers = new Map<string, number>();
  const firstFailures = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').replace(/^\/health\//, ''));
    const status = answers.get(name) ?? 200;
    if (status !== 200 && !firstFailures.has(name)) firstFailures.set(name, Date.now());
    res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'failing');
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://127.0.0.1:${port}`,
        control: {
          set: (name, status) => answers.set(name, status),
          firstFailureAt: (name) => firstFailures.get(name),
          reset: () => {
            answers.clear();
            firstFailures.clear();
          },
        },
      });
    }),
  );
}

function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/** Starts `node <entry>` with the settings, its output in a log file of the stack's folder. */
function startNodeProcess(entry: string, env: Record<string, string>, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(process.execPath, [entry], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir(), ...env }, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Answers that say "try again with the same X-Request-Id" (Temporal did not confirm in time on a busy machine). */
const RETRIED_STATUSES = [503];
const ATTEMPTS = 5;

function createApi(url: string, tokens: Record<Role, string>): BenchApi {
  const request = async (method: string, route: string, options: { role?: Role; body?: unknown } = {}): Promise<ApiAnswer> => {
    const requestId = randomUUID();
    for (let attempt = 1; ; attempt += 1) {
      let response: Response;
      try {
        response = await fetch(`${url}${route}`, {
          method,
          headers: {
            authorization: `Bearer ${tokens[options.role ?? 'admin']}`,
            'x-request-id': requestId,
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        });
      } catch (error) {
        // A kept-alive connection the server closed just then ("other side closed"): a read can simply be sent again.
        if (method === 'GET' && attempt < ATTEMPTS) continue;
        throw error;
      }
      const text = await response.text();
      if (RETRIED_STATUSES.includes(response.status) && attempt < ATTEMPTS) continue;
      return { status: response.status, body: text.length > 0 && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
    }
  };
  return {
    url,
    authorization: (role) => `Bearer ${tokens[role]}`,
    request,
    async call<T>(method: string, route: string, options: { role?: Role; body?: unknown } = {}): Promise<T> {
      const answer = await request(method, route, options);
      if (answer.status < 200 || answer.status > 299) throw new Error(`bench: ${method} ${route} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return answer.body as T;
    },
  };
}

export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const log = options.log ?? ((): void => undefined);
  // Private: the stack's database and Temporal history hold the targets' content.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wpa-bench-'));
  const cleanups: Array<() => Promise<void>> = [() => Promise.resolve(rmSync(dir, { recursive: true, force: true }))];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => log(`bench: stopping: ${String(error)}`));
  };
  try {
    const taskQueue = 'wpa-bench';
    const namespace = 'default';
    const cliPath = await resolveTemporalExecutable('temporal', { log });
    // Both settle before either is used: when one fails to start, the other is stopped with the rest.
    const [temporalStart, postgresStart] = await Promise.allSettled([
      freePort().then(async (port) => startDevServer({ cliPath, dbFile: path.join(dir, 'temporal.db'), port, uiPort: await freePort(), namespace })),
      freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port })),
    ]);
    for (const started of [temporalStart, postgresStart]) if (started.status === 'fulfilled') cleanups.push(started.value.stop);
    if (temporalStart.status === 'rejected') throw temporalStart.reason;
    if (postgresStart.status === 'rejected') throw postgresStart.reason;
    const [temporal, postgres] = [temporalStart.value, postgresStart.value];
    const databaseUrl = await ensureEmbeddedAppRole(dir, postgres);
    const logger = pino({ level: 'warn' });
    const pool = await openServiceDatabase({ url: databaseUrl, ownerUrl: postgres.url, poolSize: 10, logger });
    cleanups.push(() => pool.end());
    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace });
    const env = { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' };
    await prepareNamespace(client, loadConfig({ ...env, DATA_DIR: dir }), logger);

    const health = await startHealthServer();
    cleanups.push(() => new Promise((resolve) => health.server.close(() => resolve())));
    const jwtSecret = randomBytes(32).toString('hex');
    const apiPort = await freePort();
    const workerEnv = {
      ...env,
      DATA_DIR: path.join(dir, 'worker'),
      ALLOW_LOCAL_REPOS: 'true',
      // A folder that does not exist: pinning finds no action repositories at once instead of trying github.com.
      ACTIONS_GIT_BASE_URL: path.join(dir, 'no-action-repositories'),
    };
    const apiEnv = { PORT: String(apiPort), JWT_SECRET: jwtSecret, ALLOW_LOCAL_REPOS: 'true' };
    const startWorker = (extraEnv: Record<string, string>): ChildProcess =>
      options.allInOne
        ? startNodeProcess(distEntry('main.js'), { ...workerEnv, ...apiEnv, ...options.workerEnv, ...extraEnv }, path.join(dir, 'worker.log'))
        : startNodeProcess(distEntry('worker.js'), { ...workerEnv, ...options.workerEnv, ...extraEnv }, path.join(dir, 'worker.log'));
    let worker = startWorker({});
    const api = options.allInOne ? undefined : startNodeProcess(distEntry('api/main.js'), { ...env, ...apiEnv, DATA_DIR: path.join(dir, 'api') }, path.join(dir, 'api.log'));
    cleanups.push(async () => (api ? stopProcess(api) : undefined), () => stopProcess(worker));
    const roles: Role[] = ['viewer', 'operator', 'guardian', 'admin'];
    const tokens = Object.fromEntries(await Promise.all(roles.map(async (role) => [role, await signToken(jwtSecret, `bench-${role}`, [role])]))) as Record<Role, string>;
    const benchApi = createApi(`http://127.0.0.1:${apiPort}`, tokens);
    const ready = async (): Promise<void> => {
      await waitFor('the stack being ready (/readyz)', async () => ((await fetch(`${benchApi.url}/readyz`)).ok ? true : undefined), READY_TIMEOUT_MS, 250).catch((error: unknown) => {
        throw new Error(`${String(error)}\nworker log:\n${tail(path.join(dir, 'worker.log'))}\napi log:\n${tail(path.join(dir, 'api.log'))}`);
      });
    };
    await ready();
    const reposDir = path.join(dir, 'repos');
    mkdirSync(reposDir);
    let targetCount = 0;

    return {
      dir,
      taskQueue,
      temporalAddress: temporal.address,
      client,
      pool,
      api: benchApi,
      health: health.control,
      worker: () => ({ pid: worker.pid ?? 0, rssBytes: () => rssOf(worker.pid ?? 0) }),
      async restartWorker(extraEnv = {}) {
        await stopProcess(worker);
        // The stopped worker's heartbeat is still fresh for a while; the new one must be polling before we go on.
        worker = startWorker(extraEnv);
        await ready();
      },
      async createTargets(count, { monitored = true, prefix = 'svc' } = {}) {
        const targets: BenchTarget[] = [];
        for (let index = 0; index < count; index += 1) {
          targetCount += 1;
          const short = `${prefix}-${String(targetCount).padStart(5, '0')}`;
          const repoPath = createBareRepository(reposDir, short, { [BENCH_WORKFLOW_PATH]: BENCH_WORKFLOW });
          const name = `bench/${short}`;
          const created = await benchApi.call<{ id: string }>('POST', '/api/v1/targets', {
            body: {
              name,
              repoUrl: repoPath,
              // The target's own CI jobs (act) are measured by the workflow-run stage's tests, not here.
              workflowRun: false,
              healthChecks: monitored ? [{ type: 'http', url: `${health.url}/health/${encodeURIComponent(name)}`, timeoutMs: 2000 }] : [],
            },
          });
          targets.push({ id: created.id, name, repoPath });
        }
        return targets;
      },
      async waitForPatch(id, statuses, { timeoutMs = 600_000, intervalMs = 50 } = {}) {
        return waitFor(
          `patch ${id} reaching ${statuses.join('/')}`,
          async () => {
            const patch = await benchApi.call<{ status: PatchStatus }>('GET', `/api/v1/patches/${id}`);
            return statuses.includes(patch.status) ? { status: patch.status, at: Date.now() } : undefined;
          },
          timeoutMs,
          intervalMs,
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
