/**
 * Starts what the suites share, once per `jest` run: one embedded PostgreSQL (each suite makes its own database),
 * the Temporal binaries (installed into .tools/ on first use) and the prebuilt workflow bundle.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres';
import { resolveTemporalExecutable } from '../../src/temporal/binaries';
import { freePort } from '../../src/util/free-port';
import { TEST_ENV, type SharedTestState, setSharedState } from './shared-state';

export default async function globalSetup(): Promise<void> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'wpa-test-'));
  await fs.chmod(scratch, 0o755);
  const [database, temporalCli, temporalTestServer] = await Promise.all([
    freePort().then((port) => startEmbeddedPostgres({ dataDir: path.join(scratch, 'pg'), port, database: 'postgres' })),
    resolveTemporalExecutable('temporal', { explicitPath: process.env.TEMPORAL_CLI_PATH }),
    resolveTemporalExecutable('temporal-test-server', { explicitPath: process.env.TEMPORAL_TEST_SERVER_PATH }),
  ]);
  const state: SharedTestState = { scratch, adminDatabaseUrl: database.url, temporalCli, temporalTestServer };
  process.env[TEST_ENV] = JSON.stringify(state);
  setSharedState({ ...state, stopDatabase: database.stop });
}
