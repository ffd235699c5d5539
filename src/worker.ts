/**
 * The Temporal worker: registers every workflow of src/workflows and the activities over our domain modules.
 * Run alone (`npm run start:worker`) against external Temporal and PostgreSQL to scale out, or embedded by
 * src/main.ts. At start it removes the work folders of worker processes that have ended; while it polls it writes
 * a heartbeat (src/worker-heartbeat.ts).
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import { type Config, ConfigError, gitWorkRoot, loadConfig } from './config';
import { runEntryPoint } from './entry-point';
import { limitRepoCache, removeStaleWorkDirs } from './git';
import { createLogger, installTemporalRuntime } from './logger';
import { useProcessSpawner } from './process/spawner';
import { removeStaleRunDirs } from './sandbox/workspace';
import { openServiceDatabase } from './store/service-database';
import { connectClient, temporalConnectionOptions } from './temporal/connection';
import { prepareNamespace } from './temporal/schedules';
import { startWorkerHeartbeat } from './worker-heartbeat';

export interface WorkerDeps {
  config: Config;
  connection: NativeConnection;
  pool: Pool;
  logger: Logger;
  /** A prebuilt bundle (tests, production images); otherwise src/workflows is bundled at start. */
  workflowBundlePath?: string;
}

/** Git clones and sandbox copies left behind by worker processes that were killed in the middle of an activity. */
async function removeLeftoverWorkFolders(config: Config, logger: Logger): Promise<void> {
  const removed = [...(await removeStaleWorkDirs(gitWorkRoot(config))), ...(await removeStaleRunDirs(config.sandbox))];
  if (removed.length > 0) logger.info({ removed }, `removed ${removed.length} work folder(s) left behind by worker processes that have ended`);
}

/** The configured bounds of the worker's memory and concurrency (README "Worker memory and the workflow cache"). */
export function workerTuning(
  config: Pick<Config, 'worker'>,
): Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions'> {
  return {
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
  };
}

/** Removes the work folders of ended workers, then creates the worker; run it with runWorker. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { config } = deps;
  await removeLeftoverWorkFolders(config, deps.logger);
  limitRepoCache(gitWorkRoot(config), config.repositories.maxCachedRepos);
  return Worker.create({
    connection: deps.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(deps.workflowBundlePath ? { workflowBundle: { codePath: deps.workflowBundlePath } } : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities({ config, pool: deps.pool, logger: deps.logger }),
    ...workerTuning(config),
    // In-flight activities (a deploy, a revert) get this long to finish before the process stops.
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds}s`,
  });
}

/** Runs the worker until it stops, with a heartbeat while it polls: /readyz and the live patch state rely on it. */
export async function runWorker(worker: Worker, deps: Pick<WorkerDeps, 'config' | 'pool' | 'logger'>): Promise<void> {
  // git and sandboxed commands start from a small helper process: a fork of the worker itself freezes it.
  const releaseSpawner = await useProcessSpawner();
  const heartbeat = startWorkerHeartbeat({
    pool: deps.pool,
    taskQueue: deps.config.temporal.taskQueue,
    logger: deps.logger,
    isPolling: () => worker.getState() === 'RUNNING',
  });
  try {
    await worker.run();
  } finally {
    await heartbeat.stop();
    await releaseSpawner();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'wpa-worker');
  if (!config.temporal.address) throw new ConfigError('TEMPORAL_ADDRESS', 'required for a standalone worker (npm start runs everything embedded)');
  if (!config.database.url) throw new ConfigError('DATABASE_URL', 'required for a standalone worker (npm start runs everything embedded)');
  installTemporalRuntime(logger);
  const pool = await openServiceDatabase({ url: config.database.url, ownerUrl: config.database.ownerUrl, poolSize: config.database.poolSize, logger });
  const client = await connectClient(config.temporal, config.temporal.address);
  await prepareNamespace(client, config, logger);
  await client.connection.close();
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal, config.temporal.address));
  const worker = await createWorker({ config, connection, pool, logger });
  const stop = (): void => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
  try {
    await runWorker(worker, { config, pool, logger });
  } finally {
    await connection.close();
    await pool.end();
  }
}

if (require.main === module) runEntryPoint(main);
