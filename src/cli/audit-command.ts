/**
 * `wpa audit verify`: the service's audit trail checked where it lives, every event's hash and link and the signed
 * checkpoints, with the database of DATABASE_URL or of the running `npm start` stack.
 */
import { z } from 'zod';
import { checkpointLogFile, resolveCheckpointKey } from '../audit/checkpoints';
import { type AuditVerification, verifyAuditTrail } from '../audit/verify';
import { type Config, loadConfig as loadSettings } from '../config';
import { createPool, redactedUrl } from '../store/db';
import { embeddedAppPasswordFile, embeddedAppUrl, runningEmbeddedPostgresPort } from '../store/embedded-postgres';
import { type CliIo, EXIT, UsageError, validated } from './common';

const auditArgsSchema = z.object({ format: z.enum(['text', 'json']).default('text') });

/** DATABASE_URL, else the running embedded stack of DATA_DIR, as its least-privilege role (reading is all it needs). */
async function auditDatabaseUrl(settings: Config): Promise<string> {
  if (settings.database.url) return settings.database.url;
  const port = await runningEmbeddedPostgresPort(settings.dataDir);
  if (port === undefined) {
    throw new UsageError(`DATABASE_URL is not set and no embedded database of ${settings.dataDir} is running: start the stack with \`npm start\` (same DATA_DIR) or set DATABASE_URL`);
  }
  const url = await embeddedAppUrl(settings.dataDir, port);
  if (!url) throw new UsageError(`the embedded database of ${settings.dataDir} is running, but ${embeddedAppPasswordFile(settings.dataDir)} is missing: restart the stack with \`npm start\``);
  return url;
}

function formatVerification(result: AuditVerification, checkpointFile: string): string {
  const verdict = result.ok ? 'intact' : `TAMPERED (first event that cannot be trusted: ${result.firstBrokenSeq ?? 'none; a checkpoint record is wrong'})`;
  const lines = [
    `Audit trail: ${verdict}`,
    `  events:       ${result.events}, each hash and link checked`,
    `  checkpoints:  ${result.checkpoints} (table audit_checkpoints and ${checkpointFile})`,
  ];
  if (result.problems.length > 0) lines.push('  problems:', ...result.problems.map((problem) => `    - ${problem}`));
  return `${lines.join('\n')}\n`;
}

export async function auditCommand(positionals: string[], values: Record<string, unknown>, io: CliIo, foreignFlags: readonly string[]): Promise<number> {
  if (positionals[0] !== 'verify' || positionals.length > 1) {
    throw new UsageError(positionals[0] === 'verify' ? `audit verify: unexpected argument ${positionals[1]}` : 'audit: expected the subcommand verify');
  }
  const misplaced = foreignFlags.find((flag) => values[flag] !== undefined);
  if (misplaced) throw new UsageError(`--${misplaced} does not apply to audit verify`);
  const args = validated(auditArgsSchema, values);
  const settings = loadSettings(io.env, io.cwd);
  const url = await auditDatabaseUrl(settings);
  const pool = createPool(url, 1);
  try {
    await pool.query('SELECT 1').catch((error: unknown) => {
      throw new UsageError(`cannot connect to ${redactedUrl(url)}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const checkpointFile = checkpointLogFile(settings.dataDir);
    const result = await verifyAuditTrail({ pool, key: await resolveCheckpointKey(settings.audit.checkpointKey, settings.dataDir), checkpointFile });
    io.stdout.write(args.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : formatVerification(result, checkpointFile));
    return result.ok ? EXIT.ok : EXIT.findings;
  } finally {
    await pool.end();
  }
}
