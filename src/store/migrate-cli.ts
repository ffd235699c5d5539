/**
 * `npm run migrate`: migrates the external database of DATABASE_URL (as DATABASE_OWNER_URL, which then grants the
 * service's role what it needs) exactly as every start does, for deployments that migrate before rolling out.
 * `npm start` migrates its embedded database itself.
 */
import { ConfigError, loadConfig } from '../config';
import { runEntryPoint } from '../entry-point';
import { createLogger } from '../logger';
import { openServiceDatabase } from './service-database';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.database.url) throw new ConfigError('DATABASE_URL', 'required: the database to migrate (npm start migrates its embedded database itself)');
  const logger = createLogger(config.logLevel, 'wpa-migrate');
  const pool = await openServiceDatabase({ url: config.database.url, ownerUrl: config.database.ownerUrl, poolSize: 1, logger });
  await pool.end();
  process.stdout.write('the database is migrated\n');
}

runEntryPoint(main);
