/**
 * The all-in-one starter behind `npm start`: with no settings it runs the Temporal CLI dev server (SQLite under
 * .data/, Web UI on) and embedded PostgreSQL (.data/pg), applies the migrations as its superuser, then runs the
 * worker and the API in this process, connected as the least-privilege role `wpa_app` (password generated into
 * .data/pg-app-password), and signs audit checkpoints (key generated into .data/audit-checkpoint-key unless
 * AUDIT_CHECKPOINT_KEY is set). TEMPORAL_ADDRESS / DATABASE_URL switch either part to an external server.
 * SIGINT/SIGTERM stop everything in order: API, worker drain, last checkpoint, connections, then the embedded servers.
 * One starter per data folder (src/starter-lock.ts); after a crash (kill -9) the next start stops the embedded
 * servers the crashed one left running, found through their pid files in the data folder.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import { NativeConnection } from '@temporalio/worker';
import { type Config, loadConfig } from './config';
import { createApp } from './api/app';
import { createAuthenticator } from './api/auth';
import { DEV_TOKEN_TTL, devTokens, ensureDevJwtSecret } from './api/dev-tokens';
import { answerClientErrors } from './api/problem';
import { runEntryPoint } from './entry-point';
import { acquireStarterLock } from './starter-lock';
import { createLogger, installTemporalRuntime } from './logger';
import { prepareAgentPolicies } from './agent/policies';
import { checkpointLogFile, ensureCheckpointKey, startCheckpointWriter } from './audit/checkpoints';
import { redactedUrl } from './store/db';
import { embeddedPostgresDir, ensureEmbeddedAppRole, startEmbeddedPostgres } from './store/embedded-postgres';
import { openServiceDatabase } from './store/service-database';
import { resolveTemporalExecutable } from './temporal/binaries';
import { connectClient, temporalConnectionOptions } from './temporal/connection';
import { startDevServer } from './temporal/dev-server';
import { prepareNamespace } from './temporal/schedules';
import { createWorker, runWorker } from './worker';

type Cleanup = () => Promise<void>;
type NamedCleanup = { name: string; run: Cleanup };

async function startTemporal(config: Config, log: (line: string) => void): Promise<{ name: string; address: string; uiUrl?: string; stop?: Cleanup }> {
  const name = 'Temporal dev server';
  if (config.temporal.address) return { name, address: config.temporal.address };
  const cliPath = await resolveTemporalExecutable('temporal', { explicitPath: config.temporal.cliPath, log });
  const server = await startDevServer({
    cliPath,
    dbFile: path.join(config.dataDir, 'temporal.db'),
    pidFile: path.join(config.dataDir, 'temporal-dev-server.pid'),
    port: config.temporal.devPort,
    uiPort: config.temporal.uiPort,
    namespace: config.temporal.namespace,
  });
  return { name, address: server.address, uiUrl: server.uiUrl, stop: server.stop };
}

/** `url` is the service's own role; `ownerUrl` migrates and grants (the embedded superuser, or DATABASE_OWNER_URL). */
async function startDatabase(
  config: Config,
  log: (line: string) => void,
): Promise<{ name: string; url: string; ownerUrl: string | undefined; stop?: Cleanup }> {
  const name = 'embedded PostgreSQL';
  if (config.database.url) return { name, url: config.database.url, ownerUrl: config.database.ownerUrl };
  const server = await startEmbeddedPostgres({ dataDir: embeddedPostgresDir(config.dataDir), port: config.database.embeddedPort, log });
  const url = await ensureEmbeddedAppRole(config.dataDir, server).catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  return { name, url, ownerUrl: server.url, stop: server.stop };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const loaded = loadConfig();
  // The all-in-one stack is one person's machine: local repositories are fine unless the setting says otherwise.
  const config: Config = { ...loaded, repositories: { ...loaded.repositories, allowLocal: loaded.repositories.allowLocal ?? true } };
  const logger = createLogger(config.logLevel);
  installTemporalRuntime(logger);
  // Private: the Temporal database, secrets and work folders hold every patch's content and credentials.
  await fs.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await fs.chmod(config.dataDir, 0o700);
  const starterLock = await acquireStarterLock(config.dataDir);

  // Registered before anything starts, so a signal during start-up still stops what did start.
  const cleanups: NamedCleanup[] = [];
  const onStop = (name: string, run: Cleanup): void => {
    cleanups.push({ name, run });
  };
  onStop('starter lock', () => starterLock.release());
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const { name, run } of cleanups.reverse()) {
        const started = Date.now();
        await run().catch((error: unknown) => logger.error({ err: error }, `error while stopping the ${name}`));
        logger.debug(`stopped the ${name} in ${Date.now() - started} ms`);
      }
    })();
    return stopping;
  };
  let shutdownRequested: (() => void) | undefined;
  const shutdown = new Promise<void>((resolve) => (shutdownRequested = resolve));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'stopping');
      shutdownRequested?.();
    });
  }

  try {
    const debugLog = (line: string): void => logger.debug(line);
    const [temporalServer, database] = await Promise.all([
      startTemporal(config, (line) => logger.info(line)).then((started) => {
        if (started.stop) onStop(started.name, started.stop);
        return started;
      }),
      startDatabase(config, debugLog).then((started) => {
        if (started.stop) onStop(started.name, started.stop);
        return started;
      }),
    ]);
    const pool = await openServiceDatabase({ url: database.url, ownerUrl: database.ownerUrl, poolSize: config.database.poolSize, logger });
    onStop('database pool', () => pool.end());
    // Stopped after the worker has drained (cleanups run in reverse), so the last checkpoint covers its events too.
    const checkpointKey = config.audit.checkpointKey ?? (await ensureCheckpointKey(config.dataDir));
    const checkpointWriter = await startCheckpointWriter({
      pool,
      key: checkpointKey,
      file: checkpointLogFile(config.dataDir),
      intervalSeconds: config.audit.checkpointIntervalSeconds,
      logger,
    });
    onStop('audit checkpoint writer', () => checkpointWriter.stop());

    const temporalClient = await connectClient(config.temporal, temporalServer.address);
    onStop('Temporal client', () => temporalClient.connection.close());
    await prepareNamespace(temporalClient, config, logger);
    await prepareAgentPolicies(pool, { client: temporalClient, taskQueue: config.temporal.taskQueue }, config.agent.policyFile, logger);

    const workerConnection = await NativeConnection.connect(temporalConnectionOptions(config.temporal, temporalServer.address));
    onStop('worker connection', () => workerConnection.close());
    const worker = await createWorker({ config, connection: workerConnection, pool, logger });
    const workerRun = runWorker(worker, { config, pool, logger });
    onStop('worker', async () => {
      worker.shutdown();
      await workerRun;
    });

    const generatedSecret = config.auth.jwtSecret || config.auth.jwksUrl ? undefined : await ensureDevJwtSecret(config.dataDir);
    const auth = { ...config.auth, jwtSecret: config.auth.jwtSecret ?? generatedSecret };
    // The generated checkpoint key too, so GET /api/v1/audit/verify checks what this process signs.
    const apiConfig: Config = { ...config, audit: { ...config.audit, checkpointKey } };
    const app = createApp({ config: apiConfig, pool, temporalClient, authenticator: createAuthenticator(auth), logger });
    const server: Server = await new Promise((resolve, reject) => {
      const listening = app.listen(config.api.port, config.api.host, () => resolve(listening));
      listening.once('error', reject);
    });
    answerClientErrors(server);
    onStop(
      'API server',
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );

    const apiUrl = `http://${config.api.host}:${config.api.port}`;
    const lines = [
      '',
      `workflow-patch-agent is ready (${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
      `  API:              ${apiUrl}  (try ${apiUrl}/readyz)`,
      `  Temporal:         ${temporalServer.address}  namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}`,
      `  Temporal Web UI:  ${temporalServer.uiUrl ?? '(external cluster: use its own UI)'}`,
      `  PostgreSQL:       ${redactedUrl(database.url)}`,
    ];
    // Tokens only for the secret this starter generated: an operator's own secret is theirs to mint with.
    if (generatedSecret) {
      const tokens = await devTokens(generatedSecret, { issuer: config.auth.issuer, audience: config.auth.audience });
      lines.push(`  Development tokens (valid ${DEV_TOKEN_TTL}; more with \`npx wpa token --sub NAME --role ROLE\`; send as \`Authorization: Bearer <token>\`):`);
      for (const [role, token] of Object.entries(tokens)) lines.push(`    ${role.padEnd(9)} ${token}`);
    }
    lines.push('Press Ctrl-C to stop.', '');
    process.stdout.write(`${lines.join('\n')}\n`);

    await Promise.race([shutdown, workerRun]);
  } finally {
    await stopAll();
  }
}

runEntryPoint(main);
