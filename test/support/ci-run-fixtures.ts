/** What the act tests share: a local composite action their workflows call, and committed git checkouts. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { itWhenAvailable } from './tool-tests';

/** A local composite action the act tests' workflows call (`uses: ./.github/actions/greet`). */
export const GREET_ACTION = `name: greet
inputs:
  who: { required: true }
runs:
  using: composite
  steps:
    - run: echo "hi \${{ inputs.who }}"
      shell: bash
`;

/** git in `dir`, committing as a test author. */
export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8', stdio: 'pipe' });
}

/** Writes `files` (repository-relative path to text) into `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/** A git checkout at `dir` of `files`, committed on `main`. */
export function committedCheckout(dir: string, files: Record<string, string>): string {
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', path.basename(dir));
  return dir;
}

/** A test that skips where act cannot be built (see itWhenAvailable). */
export function itWithAct(name: string, unavailable: () => string | undefined, test: () => void | Promise<void>): void {
  itWhenAvailable('act', name, unavailable, test);
}
