/**
 * Secrets the all-in-one starter generates once and keeps in the data folder, readable by the owner only (0600):
 * the development JWT secret, the embedded database's application role password, the audit checkpoint key.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Shorter content is treated as missing: every secret kept this way is at least this long. */
const MIN_SECRET_LENGTH = 32;

/** The secret stored in `file`, or undefined when there is none (or only a truncated one). */
export async function readSecretFile(file: string): Promise<string | undefined> {
  try {
    const existing = (await fs.readFile(file, 'utf8')).trim();
    return existing.length >= MIN_SECRET_LENGTH ? existing : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The secret stored in `file`; when there is none, a new random one (URL-safe characters) is written there first. */
export async function ensureSecretFile(file: string): Promise<string> {
  const existing = await readSecretFile(file);
  if (existing) return existing;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  await fs.writeFile(file, `${secret}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file; a replaced truncated one keeps its old mode otherwise.
  await fs.chmod(file, 0o600);
  return secret;
}
