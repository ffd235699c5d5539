/**
 * Who a process is, beyond its pid. Pids are reused, so a pid alone proves nothing about a process found later:
 * a process is identified by its pid, the kernel's boot id and its start time in clock ticks since boot (both read
 * from /proc on Linux), which no later process can share. Pid files (pid-file.ts) and work folder names
 * (owned-folders.ts) record this identity; without /proc (not Linux) only the pid is known and reuse goes unnoticed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ProcessIdentity {
  pid: number;
  /** /proc/sys/kernel/random/boot_id: start times count from this boot. Empty without /proc. */
  bootId: string;
  /** Field 22 of /proc/<pid>/stat. 0 without /proc. */
  startTicks: number;
}

/** Whether a process with this pid exists (EPERM: it exists, it is just not ours to signal). */
export function isAlive(pid: number): boolean {
  // 0 and negative numbers name process groups to kill(), never one process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let bootIdCache: string | undefined;

async function bootId(): Promise<string> {
  bootIdCache ??= (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim();
  return bootIdCache;
}

/** The start time of `pid` in clock ticks since boot, undefined when it does not run (0 without /proc). */
async function startTicksOf(pid: number): Promise<number | undefined> {
  if (!isAlive(pid)) return undefined;
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    // No /proc at all (not Linux): the live pid is all there is to know.
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync('/proc/self') ? 0 : undefined;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses: count after the last ')'.
  const fieldsAfterName = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fieldsAfterName[22 - 3]);
  return Number.isSafeInteger(ticks) ? ticks : undefined;
}

/** The identity of the running process `pid`, or undefined when there is none. */
export async function identityOf(pid: number): Promise<ProcessIdentity | undefined> {
  const startTicks = await startTicksOf(pid);
  return startTicks === undefined ? undefined : { pid, bootId: await bootId(), startTicks };
}

/** Whether the process recorded as `identity` still runs: same pid, same boot, same start time. */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  const current = await identityOf(identity.pid);
  return current !== undefined && current.bootId === identity.bootId && current.startTicks === identity.startTicks;
}

/** The command line of a running process (/proc/<pid>/cmdline), or undefined when it cannot be read. */
export async function commandLineOf(pid: number): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined);
  if (raw === undefined || raw === '') return undefined;
  return raw.replace(/\0$/, '').split('\0');
}
