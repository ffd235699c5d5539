/**
 * Pid files of the processes the all-in-one starter runs, kept in its data folder so that the next start after a
 * crash can find them. One JSON object, mode 0600: `{"pid":1234,"bootId":"…","startTicks":5678,"argv":["…"]}`.
 * A record proves a process is ours only while a process with the same identity (pid, boot, start time: see
 * process-identity.ts) and the same command line runs; any other record is stale and is ignored.
 */
import { promises as fs } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { commandLineOf, identityOf, isRunning, type ProcessIdentity } from './process-identity';

export interface PidRecord extends ProcessIdentity {
  /** The command line the process was started with (/proc/<pid>/cmdline), empty without /proc. */
  argv: string[];
}

const pidRecordSchema = z.object({
  pid: z.number().int().positive(),
  bootId: z.string(),
  startTicks: z.number().int().nonnegative(),
  argv: z.array(z.string()),
});

/**
 * Records the running process `pid` in `file` (replaced atomically: a reader never sees half a record). Undefined
 * when the process has already ended: there is nothing left to record.
 */
export async function writePidFile(file: string, pid: number): Promise<PidRecord | undefined> {
  const identity = await identityOf(pid);
  if (!identity) return undefined;
  const record: PidRecord = { ...identity, argv: (await commandLineOf(pid)) ?? [] };
  const partial = `${file}.${process.pid}.partial`;
  await fs.writeFile(partial, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await fs.rename(partial, file);
  return record;
}

/** The record in `file`; undefined when there is none or it is not one of ours (garbled, another format). */
export async function readPidFile(file: string): Promise<PidRecord | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = pidRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function sameCommandLine(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((arg, index) => arg === b[index]);
}

/** The process recorded in `file` when it still runs as recorded (identity and command line), else undefined. */
export async function runningRecordedProcess(file: string): Promise<PidRecord | undefined> {
  const record = await readPidFile(file);
  if (!record || !(await isRunning(record))) return undefined;
  const argv = (await commandLineOf(record.pid)) ?? [];
  return sameCommandLine(argv, record.argv) ? record : undefined;
}

/** Removes `file` if it still records `owner` (a newer record belongs to someone else). */
export async function removePidFile(file: string, owner: ProcessIdentity): Promise<void> {
  const record = await readPidFile(file);
  if (record && record.pid === owner.pid && record.bootId === owner.bootId && record.startTicks === owner.startTicks) {
    await fs.rm(file, { force: true });
  }
}

async function waitUntilGone(identity: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(identity)) {
    if (Date.now() >= deadline) return false;
    await delay(50);
  }
  return true;
}

/**
 * Sends `signal` (the program's own "shut down" signal) and waits up to graceMs; then SIGKILL and a short wait.
 * The identity is checked before every signal, so a pid reused in between is never signalled.
 */
export async function stopProcess(identity: ProcessIdentity, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  for (const [send, waitMs] of [[signal, graceMs], ['SIGKILL', 5_000]] as const) {
    if (!(await isRunning(identity))) return;
    try {
      process.kill(identity.pid, send);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw error;
    }
    if (await waitUntilGone(identity, waitMs)) return;
  }
}
