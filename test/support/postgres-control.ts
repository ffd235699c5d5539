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

/** Stops the postmaster running on `dataDir` (fast shutdown, waits for it). */
export async function stopPostgresAt(dataDir: string): Promise<void> {
  await pgCtl(['stop', '-D', dataDir, '-m', 'fast', '-w']);
}

/** Starts a postmaster on `dataDir` with pg_ctl (not through the service's server module), listening on `port`. */
export async function startPostgresAt(dataDir: string, port: string | number): Promise<void> {
  await pgCtl(['start', '-D', dataDir, '-w', '-l', path.join(dataDir, 'restart.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=`]);
}

export async function stopSharedPostgres(): Promise<void> {
  await stopPostgresAt(sharedTestState().postgresDataDir);
}

export async function startSharedPostgres(): Promise<void> {
  const state = sharedTestState();
  await startPostgresAt(state.postgresDataDir, new URL(state.adminDatabaseUrl).port);
}
