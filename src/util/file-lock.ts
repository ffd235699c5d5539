import { promises as fs } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Runs `fn` while holding an exclusive lock file (created with O_EXCL). A lock older than `staleMs` is taken over:
 * its holder died. Used where separate processes (jest, npm start) may install or initialize the same thing.
 */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, staleMs = 15 * 60_000): Promise<T> {
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const stat = await fs.stat(lockPath).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > staleMs) await fs.rm(lockPath, { force: true });
      else await delay(250);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}
