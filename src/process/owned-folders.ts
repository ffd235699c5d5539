/**
 * Temporary folders named after the process that creates them, so a later process can tell whether their owner
 * still runs: a worker killed in the middle of an activity leaves its git clones and sandbox copies behind, and the
 * next worker start removes the folders whose owner is gone. A name is `<prefix><host>.<pid>.<startTicks>-…`
 * (process-identity.ts). Folders of another host (a volume shared between containers, whose pids mean nothing
 * here) and folders named otherwise are never touched: whether their owner lives cannot be known here.
 */
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { identityOf, type ProcessIdentity } from './process-identity';

/** The host name as it can appear in a folder name: letters, digits and dashes, no dots (they separate the fields). */
function hostTag(): string {
  return os.hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63) || 'host';
}

const OWNER = /^([A-Za-z0-9-]+)\.(\d+)\.(\d+)-/;

/** How a folder names the process of this host that owns it: `<host>.<pid>.<startTicks>`. */
export function folderOwnerTag(owner: Pick<ProcessIdentity, 'pid' | 'startTicks'>): string {
  return `${hostTag()}.${owner.pid}.${owner.startTicks}`;
}

let ownTag: Promise<string> | undefined;

function ownerTag(): Promise<string> {
  ownTag ??= identityOf(process.pid).then((identity) => folderOwnerTag({ pid: process.pid, startTicks: identity?.startTicks ?? 0 }));
  return ownTag;
}

/** A new empty folder `<root>/<prefix><owner>-<label>-XXXXXX` (the label says what it is for; it may be empty). */
export async function createOwnedFolder(root: string, prefix: string, label = ''): Promise<string> {
  await mkdir(root, { recursive: true });
  return mkdtemp(path.join(root, `${prefix}${await ownerTag()}-${label ? `${label}-` : ''}`));
}

/** Whether the owner named by a folder (after its prefix) is a process of this host that has ended. */
async function ownerIsGone(nameAfterPrefix: string): Promise<boolean> {
  const [, host, pid, startTicks] = OWNER.exec(nameAfterPrefix) ?? [];
  if (host !== hostTag() || pid === undefined || startTicks === undefined) return false;
  const current = await identityOf(Number(pid));
  return current === undefined || current.startTicks !== Number(startTicks);
}

/**
 * Removes the folders of `root` starting with `prefix` whose owner process has ended, with `remove` (which knows
 * how to delete what such a folder may hold). Returns the removed paths.
 */
export async function removeFoldersOfGoneOwners(root: string, prefix: string, remove: (dir: string) => Promise<void>): Promise<string[]> {
  const names = await readdir(root).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  });
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !(await ownerIsGone(name.slice(prefix.length)))) continue;
    const dir = path.join(root, name);
    await remove(dir);
    removed.push(dir);
  }
  return removed;
}
