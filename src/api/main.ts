/**
 * The API alone (`npm run start:api`), for running M API instances against one Temporal cluster and one
 * PostgreSQL. Needs TEMPORAL_ADDRESS, DATABASE_URL and JWT_SECRET or JWT_JWKS_URL; with AUDIT_CHECKPOINT_KEY it
 * also signs audit checkpoints (into the table, DATA_DIR/audit-checkpoints.jsonl and the log).
 */
import { prepareAgentPolicies } from '../agent/policies';
import { checkpointLogFile, type CheckpointWriter, startCheckpointWriter } from '../audit/checkpoints';
import { type Config, ConfigError, gitWorkRoot, loadConfig } from '../config';
import { runEntryPoint } from '../entry-point';
import { limitRepoCache, removeStaleWorkDirs } from '../git';
import { createLogger } from '../logger';
import { useProcessSpawner } from '../process/spawner';
import { openServiceDatabase } from '../store/service-database';
import { connectClient } from '../temporal/connection';
import { createApp } from './app';
import { createAuthenticator } from './auth';
import { answerClientErrors } from './problem';

function requireExternal(config: Config): { temporalAddress: string; databaseUrl: string } {
  if (!config.temporal.address) throw new ConfigError('TEMPORAL_ADDRESS', 'required for the API alone (npm start runs everything embedded)');
  if (!config.database.url) throw new ConfigError('DATABASE_URL', 'required for the API alone (npm start runs everything embedded)');
  if (!config.auth.jwtSecret && !config.auth.jwksUrl) throw new ConfigError('JWT_SECRET', 'set JWT_SECRET or JWT_JWKS_URL for the API alone');
  return { temporalAddress: config.temporal.address, databaseUrl: config.database.url };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { temporalAddress, databaseUrl } = requireExternal(config);
  const logger = createLogger(config.logLevel, 'wpa-api');
  // Git runs (the files a new patch changes, read on every target) start from a small process of their own, as the
  // worker's do: a fork of this process would stop its event loop for longer the more memory it holds.
  const releaseSpawner = await useProcessSpawner();
  // Those reads keep each target's branch in this process's repository cache: bounded as the worker's, and the
  // folders of an API process that was killed are removed.
  await removeStaleWorkDirs(gitWorkRoot(config));
  limitRepoCache(gitWorkRoot(config), config.repositories.maxCachedRepos);
  const pool = await openServiceDatabase({ url: databaseUrl, ownerUrl: config.database.ownerUrl, poolSize: config.database.poolSize, logger });
  let checkpointWriter: CheckpointWriter | undefined;
  if (config.audit.checkpointKey) {
    checkpointWriter = await startCheckpointWriter({
      pool,
      key: config.audit.checkpointKey,
      file: checkpointLogFile(config.dataDir),
      intervalSeconds: config.audit.checkpointIntervalSeconds,
      logger,
    });
  } else {
    logger.warn('AUDIT_CHECKPOINT_KEY is not set: no audit checkpoints are written, so a rewritten or shortened audit trail cannot be told from a genuine one.');
  }
  const temporalClient = await connectClient(config.temporal, temporalAddress);
  await prepareAgentPolicies(pool, { client: temporalClient, taskQueue: config.temporal.taskQueue }, config.agent.policyFile, logger);
  const app = createApp({ config, pool, temporalClient, authenticator: createAuthenticator(config.auth), logger });
  const server = app.listen(config.api.port, config.api.host, () => logger.info({ port: config.api.port }, 'API listening'));
  answerClientErrors(server);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await checkpointWriter?.stop();
  await temporalClient.connection.close();
  await pool.end();
  await releaseSpawner();
}

runEntryPoint(main);
