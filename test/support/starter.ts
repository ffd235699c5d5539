/**
 * The all-in-one starter as a user runs it: `node dist/src/main.js` (what `npm start` runs after building) with
 * the embedded Temporal dev server and PostgreSQL, in a temporary data folder on free ports.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/util/free-port';
import { sharedTestState } from './shared-state';

export const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface StartedStack {
  child: ChildProcess;
  output: () => string;
  tokens: Record<string, string>;
  apiUrl: string;
  uiUrl: string;
  readyMs: number;
}

/** A fresh data folder and the settings of a stack on free ports, its Temporal CLI the tests' own. */
export async function stackEnv(prefix: string): Promise<{ dataDir: string; env: NodeJS.ProcessEnv }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it (tsc) before jest runs`);
  const state = sharedTestState();
  const dataDir = mkdtempSync(path.join(state.scratch, prefix));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter the data folder.
  chmodSync(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_CLI_PATH: state.temporalCli,
    LOG_LEVEL: 'warn',
    TEMPORAL_ADDRESS: '',
    DATABASE_URL: '',
    JWT_SECRET: '',
  };
  return { dataDir, env };
}

/** Processes whose command line mentions `needle` (the test's data folder), other than ps itself. */
export function processesMentioning(needle: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'));
}

/** SIGKILLs whatever still mentions one of `needles` (a failed test's leftovers). */
export function killProcessesMentioning(...needles: string[]): void {
  for (const line of needles.filter(Boolean).flatMap(processesMentioning)) {
    const pid = Number(line.trim().split(/\s+/)[0]);
    if (pid) process.kill(pid, 'SIGKILL');
  }
}

/** Starts the stack and resolves once it printed its banner (at most 150 s). */
export function startStack(env: NodeJS.ProcessEnv): Promise<StartedStack> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready within 150 s:\n${output}`)), 150_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${output}`));
    });
    const poll = setInterval(() => {
      if (!output.includes('Press Ctrl-C to stop.')) return;
      clearInterval(poll);
      clearTimeout(timer);
      const tokens = Object.fromEntries([...output.matchAll(/^ {4}(viewer|operator|guardian|admin) +(\S+)$/gm)].map((m) => [m[1], m[2]]));
      resolve({
        child,
        output: () => output,
        tokens,
        apiUrl: /API: +(http:\/\/\S+)/.exec(output)?.[1] ?? '',
        uiUrl: /Temporal Web UI: +(http:\/\/\S+)/.exec(output)?.[1] ?? '',
        readyMs: Date.now() - startedAt,
      });
    }, 100);
  });
}

/** Sends `signal` and waits for the exit: its code (null after SIGKILL) and how long it took. */
export async function stopStack(started: StartedStack, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const exited = new Promise<number | null>((resolve) => started.child.once('exit', (code) => resolve(code)));
  started.child.kill(signal);
  const code = await exited;
  return { code, ms: Date.now() - t0 };
}

export async function stackApi(started: StartedStack, method: string, route: string, role: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${started.apiUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${started.tokens[role] ?? ''}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}
