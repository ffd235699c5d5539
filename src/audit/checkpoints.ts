/**
 * Signed checkpoints: the anchor of the audit chain. The hash chain alone cannot expose someone who recomputes
 * every hash after an edit, or who deletes the newest events. A checkpoint (number of events, newest hash, time)
 * carries an HMAC-SHA256 under a key the database never sees, and is kept in three places: the
 * `audit_checkpoints` table, an append-only JSON-lines file in the data folder, and the log. Rewriting the chain
 * then contradicts a checkpoint nobody with only database access can forge or reach.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import canonicalize from 'canonicalize';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type AuditCheckpoint, auditChainHead, insertAuditCheckpoint, latestAuditCheckpointEvents } from '../store/audit';
import { ensureSecretFile, readSecretFile } from '../util/secret-file';

/** The key `npm start` generates when AUDIT_CHECKPOINT_KEY is unset (mode 0600). */
export function checkpointKeyFile(dataDir: string): string {
  return path.join(dataDir, 'audit-checkpoint-key');
}

/** One JSON checkpoint per line, appended by the API process that stored it in the table (mode 0600). */
export function checkpointLogFile(dataDir: string): string {
  return path.join(dataDir, 'audit-checkpoints.jsonl');
}

/** The generated key of the all-in-one stack: read, or created on first start. */
export function ensureCheckpointKey(dataDir: string): Promise<string> {
  return ensureSecretFile(checkpointKeyFile(dataDir));
}

/** The configured key, else the one `npm start` generated in `dataDir`, else undefined. Never creates one. */
export async function resolveCheckpointKey(configuredKey: string | undefined, dataDir: string): Promise<string | undefined> {
  return configuredKey ?? (await readSecretFile(checkpointKeyFile(dataDir)));
}

function checkpointMac(key: string, checkpoint: Omit<AuditCheckpoint, 'mac'>): string {
  const signed = canonicalize({ events: checkpoint.events, headHash: checkpoint.headHash, at: checkpoint.at }) ?? '';
  return createHmac('sha256', key).update(signed).digest('hex');
}

export function signCheckpoint(key: string, head: { events: number; headHash: string }, at: Date): AuditCheckpoint {
  // Millisecond precision, like the table's read-back value, so the signed text survives the round trip.
  const unsigned = { events: head.events, headHash: head.headHash, at: new Date(Math.floor(at.getTime())).toISOString() };
  return { ...unsigned, mac: checkpointMac(key, unsigned) };
}

export function hasValidMac(key: string, checkpoint: AuditCheckpoint): boolean {
  const expected = Buffer.from(checkpointMac(key, checkpoint), 'hex');
  const given = Buffer.from(checkpoint.mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const fileCheckpointSchema = z
  .object({
    events: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    headHash: z.string().regex(/^[0-9a-f]{64}$/),
    at: z.iso.datetime(),
    mac: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

export interface CheckpointFile {
  exists: boolean;
  /** Each valid line, with its line number for messages. */
  checkpoints: Array<{ line: number; checkpoint: AuditCheckpoint }>;
  /** Lines that are not checkpoints, as sentences. */
  problems: string[];
}

export async function readCheckpointFile(file: string): Promise<CheckpointFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, checkpoints: [], problems: [] };
    throw error;
  }
  const result: CheckpointFile = { exists: true, checkpoints: [], problems: [] };
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const checkpoint = fileCheckpointSchema.safeParse(parsed);
    if (checkpoint.success) result.checkpoints.push({ line: index + 1, checkpoint: checkpoint.data });
    else result.problems.push(`Line ${index + 1} of ${file} is not a checkpoint: the file was altered or damaged.`);
  });
  return result;
}

export interface CheckpointWriterOptions {
  pool: Pool;
  key: string;
  /** checkpointLogFile(dataDir) */
  file: string;
  logger: Logger;
}

/**
 * Signs the chain's current head when it grew since the newest stored checkpoint, and keeps the checkpoint in the
 * table, the file and the log. Several API processes may race: the table keeps one checkpoint per event count, and
 * only the process that stored it appends it to its file. Returns the checkpoint written, if any.
 */
export async function writeCheckpoint(options: CheckpointWriterOptions): Promise<AuditCheckpoint | undefined> {
  const head = await auditChainHead(options.pool);
  // A chain shorter than the newest checkpoint lost events: signing it would vouch for the deletion.
  if (head.events === 0 || head.events <= (await latestAuditCheckpointEvents(options.pool))) return undefined;
  const checkpoint = signCheckpoint(options.key, head, new Date());
  if (!(await insertAuditCheckpoint(options.pool, checkpoint))) return undefined;
  await fs.mkdir(path.dirname(options.file), { recursive: true });
  await fs.appendFile(options.file, `${JSON.stringify(checkpoint)}\n`, { mode: 0o600 });
  options.logger.info({ auditCheckpoint: checkpoint }, `audit checkpoint: ${checkpoint.events} events, newest hash ${checkpoint.headHash}`);
  return checkpoint;
}

export interface CheckpointWriter {
  /** Stops the timer and writes a last checkpoint. */
  stop(): Promise<void>;
}

/**
 * Writes a checkpoint now, then every `intervalSeconds` and once more at stop. Writes never overlap, and a failed
 * one (database briefly down) is logged and retried at the next tick instead of stopping the API.
 */
export async function startCheckpointWriter(options: CheckpointWriterOptions & { intervalSeconds: number }): Promise<CheckpointWriter> {
  let previous: Promise<void> = Promise.resolve();
  const writeInTurn = (): Promise<void> => {
    previous = previous
      .then(() => writeCheckpoint(options))
      .then(
        () => undefined,
        (error: unknown) => options.logger.warn({ err: error }, 'could not write an audit checkpoint; retrying at the next interval'),
      );
    return previous;
  };
  await writeInTurn();
  const timer = setInterval(() => void writeInTurn(), options.intervalSeconds * 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await writeInTurn();
    },
  };
}
