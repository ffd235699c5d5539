/**
 * What the fault tests read from and write to a target's branch with the git CLI directly (not the module under
 * test): file contents at the tip, and a commit pushed by "someone else".
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Target } from '../../../src/domain/types';

const SOMEONE_ELSE = ['-c', 'user.name=Someone Else', '-c', 'user.email=someone@example.test'];

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The file at the tip of the target's branch; undefined when it does not exist there. */
export function fileOnBranch(target: Target, file: string): string | undefined {
  try {
    return git(target.repoUrl, ['show', `${target.branch}:${file}`]);
  } catch {
    return undefined;
  }
}

/** Commits `files` on top of the target's branch and pushes, as another contributor would; returns the SHA. */
export function pushCommit(target: Target, files: Record<string, string>, message: string, scratch: string): string {
  const clone = mkdtempSync(path.join(scratch, 'someone-else-'));
  try {
    git(clone, ['clone', '-q', '--branch', target.branch, target.repoUrl, '.']);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
      writeFileSync(path.join(clone, file), text);
    }
    git(clone, ['add', '-A']);
    git(clone, [...SOMEONE_ELSE, 'commit', '-q', '-m', message]);
    git(clone, ['push', '-q', 'origin', `HEAD:refs/heads/${target.branch}`]);
    return git(clone, ['rev-parse', 'HEAD']).trim();
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
}
