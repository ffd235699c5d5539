/**
 * /readyz against real parts: the shared embedded PostgreSQL (stopped and restarted by the test), a Temporal
 * dev server and a real worker with its heartbeat. A worker process killed outright: test/e2e/worker-liveness.test.ts.
 */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/api/app';
import { createAuthenticator } from '../../src/api/auth';
import { loadConfig } from '../../src/config';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { freePort } from '../../src/util/free-port';
import { createWorker, runWorker } from '../../src/worker';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startSharedPostgres, stopSharedPostgres } from '../support/postgres-control';
import { sharedTestState } from '../support/shared-state';

describe('GET /readyz', () => {
  const logger = pino({ level: 'silent' });
  const state = sharedTestState();
  let db: TestDatabase;
  let temporalServer: DevServer;
  let client: Client;
  let workerConnection: NativeConnection;
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let app: ReturnType<typeof createApp>;
  let config: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    const port = await freePort();
    [db, temporalServer] = await Promise.all([
      createTestDatabase(),
      startDevServer({ cliPath: state.temporalCli, dbFile: path.join(state.scratch, `readiness-${port}.db`), port, uiPort: await freePort(), namespace: 'default' }),
    ]);
    config = loadConfig({ JWT_SECRET: 'x'.repeat(32), DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalServer.address, TEMPORAL_TASK_QUEUE: `readiness-${process.pid}` });
    const pool = db.pool;
    client = new Client({ connection: await Connection.connect({ address: temporalServer.address }) });
    workerConnection = await NativeConnection.connect({ address: temporalServer.address });
    app = createApp({ config, pool, temporalClient: client, authenticator: createAuthenticator(config.auth), logger });
  }, 120_000);

  afterAll(async () => {
    worker?.shutdown();
    await workerRun;
    await workerConnection?.close();
    await client?.connection.close();
    await Promise.all([db?.drop(), temporalServer?.stop()]);
  });

  test('503 naming the worker while none runs, 200 once one sends heartbeats, 503 again after it stopped', async () => {
    const before = await request(app).get('/readyz');
    expect(before.status).toBe(503);
    expect(before.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(before.body.detail).toMatch(/worker: no worker is running on task queue readiness-\d+ \(none has sent a heartbeat\)/);
    expect(before.body.checks.database.ok).toBe(true);

    worker = await createWorker({ config, connection: workerConnection, pool: db.pool, logger, workflowBundlePath: state.workflowBundlePath });
    workerRun = runWorker(worker, { config, pool: db.pool, logger });
    let after = await request(app).get('/readyz');
    for (let i = 0; i < 50 && after.status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await request(app).get('/readyz');
    }
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: 'ready', checks: { database: { ok: true }, temporal: { ok: true }, worker: { ok: true } } });
    expect(after.body.checks.worker.detail).toMatch(/^1 live worker\(s\) on task queue readiness-/);

    // A graceful stop deletes the heartbeat: not ready at once, without waiting for it to age.
    worker.shutdown();
    await workerRun;
    const stopped = await request(app).get('/readyz');
    expect(stopped.status).toBe(503);
    expect(stopped.body.detail).toMatch(/worker: no worker is running on task queue/);

    worker = await createWorker({ config, connection: workerConnection, pool: db.pool, logger, workflowBundlePath: state.workflowBundlePath });
    workerRun = runWorker(worker, { config, pool: db.pool, logger });
  });

  test('503 naming PostgreSQL while it is stopped, 200 again when it returns', async () => {
    await stopSharedPostgres();
    const down = await request(app).get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body.detail).toMatch(/database: PostgreSQL is not reachable/);
    expect(down.body.checks).toMatchObject({ database: { ok: false }, temporal: { ok: true }, worker: { ok: false, detail: 'unknown while PostgreSQL is unreachable' } });

    await startSharedPostgres();
    // Ready once the worker's next heartbeat (every 5 s) reached the database again.
    let back = await request(app).get('/readyz');
    for (let i = 0; i < 60 && back.status !== 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      back = await request(app).get('/readyz');
    }
    expect(back.status).toBe(200);
  });

  test('503 naming Temporal when it is unreachable', async () => {
    const unreachable = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
    const isolated = createApp({ config, pool: db.pool, temporalClient: unreachable, authenticator: createAuthenticator(config.auth), logger });
    const res = await request(isolated).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.detail).toMatch(/temporal: Temporal is not reachable/);
    await unreachable.connection.close();
  });

  test('/healthz answers while dependencies are down', async () => {
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok' });
  });
});
