/**
 * One all-in-one starter per data folder: two would fight over the embedded servers' ports and files. The starter
 * records itself in `<dataDir>/starter.pid` (src/process/pid-file.ts); a record whose process still runs means
 * another starter is live, any other record was left by a crashed one and is replaced.
 */
import path from 'node:path';
import { removePidFile, runningRecordedProcess, writePidFile } from './process/pid-file';
import { withFileLock } from './util/file-lock';

/** Checking and replacing the record takes milliseconds; a lock this old was left by a starter killed meanwhile. */
const LOCK_STALE_MS = 10_000;

/** Another starter runs on the same data folder: one sentence for the person starting this one (exit code 2). */
export class StarterAlreadyRunningError extends Error {
  override readonly name = 'StarterAlreadyRunningError';
}

export interface StarterLock {
  /** Removes the record, unless a newer starter has replaced it. */
  release(): Promise<void>;
}

export function starterPidFile(dataDir: string): string {
  return path.join(dataDir, 'starter.pid');
}

/** Records this process as the starter of `dataDir`; throws StarterAlreadyRunningError while another one runs. */
export async function acquireStarterLock(dataDir: string): Promise<StarterLock> {
  const file = starterPidFile(dataDir);
  // Serialized, so two starters launched together cannot both find the old record stale and both take over.
  return withFileLock(
    `${file}.lock`,
    async () => {
      const holder = await runningRecordedProcess(file);
      if (holder) {
        throw new StarterAlreadyRunningError(
          `Another workflow-patch-agent starter (pid ${holder.pid}) is already running on the data folder ${dataDir}; stop it first (Ctrl-C in its terminal, or kill ${holder.pid}), or set DATA_DIR to another folder.`,
        );
      }
      const record = await writePidFile(file, process.pid);
      return { release: async () => (record ? removePidFile(file, record) : undefined) };
    },
    LOCK_STALE_MS,
  );
}
