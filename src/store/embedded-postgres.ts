/**
 * The all-in-one stack's PostgreSQL (src/store/postgres-server.ts runs the server): its data in the service's
 * data folder, a second start reuses it. The stack migrates as the server's superuser and runs its worker and API
 * as a least-privilege role whose generated password is kept in the service's data folder.
 */
import path from 'node:path';
import { Client } from 'pg';
import { ensureSecretFile, readSecretFile } from '../util/secret-file';
import { createPool } from './db';
import { runningPostmaster, startPostgresServer } from './postgres-server';
import { ensureApplicationRole } from './roles';

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
  const running = await runningPostmaster(embeddedPostgresDir(serviceDataDir));
  return running && running.port > 0 ? running.port : undefined;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const database = options.database ?? STACK_DATABASE;
  const server = await startPostgresServer({ dataDir: options.dataDir, port: options.port, superuser: USER, password: PASSWORD, log });
  const url = embeddedUrl(options.port, USER, PASSWORD, database);
  const admin = new Client({ connectionString: embeddedUrl(options.port, USER, PASSWORD, 'postgres') });
  try {
    await admin.connect();
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    await admin.end().catch(() => undefined);
  }
  return { url, port: options.port, stop: () => server.stop() };
}
