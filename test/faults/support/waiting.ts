/**
 * Bounded waiting for fault tests: while servers are being killed and restarted a probe may fail, which counts as
 * "not yet"; only the deadline ends the wait, with the last error in the message.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/** Polls `probe` until it returns something other than undefined; throws when `timeoutMs` (default 2 minutes) passes. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 120_000, intervalMs = 250 } = options;
  let lastError: unknown;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(intervalMs);
  }
  const cause = lastError instanceof Error ? ` The last attempt failed: ${lastError.message}` : '';
  throw new Error(`Gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s.${cause}`);
}
