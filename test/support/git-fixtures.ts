import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.invalid' };

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A bare repository (the "remote" a target points at) holding `files` on `branch`; returns its path. */
export function createBareRepository(parentDir: string, files: Record<string, string>, branch = 'main'): string {
  const seed = mkdtempSync(path.join(parentDir, 'seed-'));
  git(seed, ['init', '-q', '-b', branch]);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(seed, file)), { recursive: true });
    writeFileSync(path.join(seed, file), text);
  }
  git(seed, ['add', '-A']);
  git(seed, ['commit', '-q', '-m', 'seed']);
  const bare = `${seed}.git`;
  git(parentDir, ['clone', '-q', '--bare', seed, bare]);
  return bare;
}

/**
 * Where tests list action repositories (ACTIONS_GIT_BASE_URL): a folder that does not exist, so pinning finds
 * nothing to resolve at once instead of trying github.com from a machine without internet.
 */
export const NO_ACTION_REPOSITORIES_URL = path.join(os.tmpdir(), 'wpa-tests-no-action-repositories');
export const NO_ACTION_REPOSITORIES = { gitBaseUrl: NO_ACTION_REPOSITORIES_URL };
