/**
 * Stops and restarts the shared embedded PostgreSQL of a test run with the pg_ctl it ships, for tests of what
 * the service does while the database is down. Suites run in band, so no other suite sees the outage.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { postgresTools } from '../../src/store/postgres-server';
import { sharedTestState } from './shared-state';

const execFileAsync = promisify(execFile);

/** pg_ctl of the binaries the server runs from, as the user it runs as (root's runs as `postgres`). */
async function pgCtl(args: string[]): Promise<void> {
  const { binDir, runAs } = await postgresTools();
  await execFileAsync(path.join(binDir, 'pg_ctl'), args, { ...runAs, timeout: 30_000 });
}

export async function stopSharedPostgres(): Promise<void> {
  await pgCtl(['stop', '-D', sharedTestState().postgresDataDir, '-m', 'fast', '-w']);
}

export async function startSharedPostgres(): Promise<void> {
  const state = sharedTestState();
  const port = new URL(state.adminDatabaseUrl).port;
  await pgCtl(['start', '-D', state.postgresDataDir, '-w', '-l', path.join(state.postgresDataDir, 'restart.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=`]);
}
