/**
 * The Temporal worker: registers every workflow of src/workflows and the activities over our domain modules.
 * Run alone (`npm run start:worker`) against external Temporal and PostgreSQL to scale out, or embedded by
 * src/main.ts.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { createActivities } from './activities';
import { type Config, ConfigError, loadConfig } from './config';
import { runEntryPoint } from './entry-point';
import { createLogger, installTemporalRuntime } from './logger';
import { openServiceDatabase } from './store/service-database';
import { connectClient, temporalConnectionOptions } from './temporal/connection';
import { ensureSearchAttributes } from './temporal/search-attributes';

export interface WorkerDeps {
  config: Config;
  connection: NativeConnection;
  pool: Pool;
  logger: Logger;
  /** A prebuilt bundle (tests, production images); otherwise src/workflows is bundled at start. */
  workflowBundlePath?: string;
}

export function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { config } = deps;
  return Worker.create({
    connection: deps.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(deps.workflowBundlePath ? { workflowBundle: { codePath: deps.workflowBundlePath } } : { workflowsPath: require.resolve('./workflows') }),
    activities: createActivities({ config, pool: deps.pool, logger: deps.logger }),
    // In-flight activities (a deploy, a revert) get this long to finish before the process stops.
    shutdownGraceTime: `${config.worker.shutdownGraceSeconds}s`,
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'wpa-worker');
  if (!config.temporal.address) throw new ConfigError('TEMPORAL_ADDRESS', 'required for a standalone worker (npm start runs everything embedded)');
  if (!config.database.url) throw new ConfigError('DATABASE_URL', 'required for a standalone worker (npm start runs everything embedded)');
  installTemporalRuntime(logger);
  const pool = await openServiceDatabase({ url: config.database.url, ownerUrl: config.database.ownerUrl, poolSize: config.database.poolSize, logger });
  const client = await connectClient(config.temporal, config.temporal.address);
  const added = await ensureSearchAttributes(client, config.temporal.namespace).catch((error: unknown) => {
    logger.warn({ err: error }, 'could not register the custom search attributes; ask the cluster admin to add them');
    return [];
  });
  if (added.length > 0) logger.info({ added }, 'search attributes registered');
  await client.connection.close();
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal, config.temporal.address));
  const worker = await createWorker({ config, connection, pool, logger });
  const stop = (): void => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  logger.info({ taskQueue: config.temporal.taskQueue }, 'worker started');
  try {
    await worker.run();
  } finally {
    await connection.close();
    await pool.end();
  }
}

if (require.main === module) runEntryPoint(main);
