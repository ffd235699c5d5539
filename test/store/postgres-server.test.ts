/**
 * The embedded PostgreSQL server's stop: it stops the postmaster that runs on its data folder when asked, also
 * one restarted there by pg_ctl meanwhile (as the outage tests do), so nothing is left running.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { runningPostmaster } from '../../src/store/postgres-server';
import { freePort } from '../../src/util/free-port';
import { startPostgresAt, stopPostgresAt } from '../support/postgres-control';

jest.setTimeout(120_000);

/** The folder the data lives in: a root run keeps it where the postgres user can reach it, behind a symlink. */
function realFolder(dataDir: string): Promise<string> {
  return realpath(dataDir);
}

describe('embedded PostgreSQL server', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'wpa-pg-server-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  test('stop() stops a postmaster that pg_ctl restarted on its folder (another pid than the one it started)', async () => {
    const port = await freePort();
    const database = await startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port, database: 'postgres' });
    // pg_ctl runs as the server's user, who may not reach a private scratch folder: it is given the real one.
    const dataFolder = await realFolder(path.join(scratch, 'pg'));
    try {
      const first = await runningPostmaster(dataFolder);
      expect(first).toBeDefined();
      await stopPostgresAt(dataFolder);
      await startPostgresAt(dataFolder, port);
      const restarted = await runningPostmaster(dataFolder);
      expect(restarted?.identity.pid).not.toBe(first?.identity.pid);
      const client = new Client({ connectionString: database.url });
      await client.connect();
      await client.end();
    } finally {
      await database.stop();
    }
    expect(await runningPostmaster(dataFolder)).toBeUndefined();
  });
});
