/**
 * Real git remotes for the git module's tests: a bare repository in a temp folder. "Someone else" moves its
 * branch by writing commits straight into it with `git fast-import` (one process per commit, no clone), which
 * the module under test sees exactly like a push. Uses the git CLI directly, not the module under test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

export const CI_WORKFLOW = [
  'name: CI',
  'on: [push]',
  'permissions:',
  '  contents: read',
  'env:',
  '  NODE_VERSION: 20',
  'jobs:',
  '  build:',
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - uses: actions/checkout@v3',
  '      - run: npm ci',
  '      - run: npm test',
  '',
].join('\n');

export const CI_PATH = '.github/workflows/ci.yml';

/** A file tree edit: content to write (a symlink as `{ symlinkTo }`), or null to delete. */
export type Edits = Record<string, string | Buffer | { symlinkTo: string } | null>;

/** The CI workflow file with `uses: actions/checkout@<version>` (the seed has v3). */
export function checkoutVersion(version: string): Edits {
  return { [CI_PATH]: CI_WORKFLOW.replace('actions/checkout@v3', `actions/checkout@${version}`) };
}

function data(content: string | Buffer): Buffer[] {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return [Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n')];
}

export class TestRemote {
  readonly root: string;
  readonly bare: string;
  readonly workRoot: string;
  private commits = 0;

  constructor(files: Edits = { [CI_PATH]: CI_WORKFLOW, 'README.md': 'hello\n' }) {
    this.root = mkdtempSync(join(tmpdir(), 'wpa-git-test-'));
    this.bare = join(this.root, 'remote.git');
    this.workRoot = join(this.root, 'work');
    git(this.root, 'init', '-q', '--bare', '--template=', '-b', 'main', this.bare);
    this.writeCommit('refs/heads/main', files, 'seed', false);
  }

  /** Writes a commit with the edits on top of `ref` (or as a root commit) and points `ref` at it. */
  private writeCommit(ref: string, edits: Edits, message: string, onTopOf: string | false): string {
    // Distinct, increasing timestamps, so commits made in the same second still differ and sort by age.
    const when = Math.floor(Date.now() / 1000) + this.commits++;
    const stream: Buffer[] = [
      Buffer.from(`commit ${ref}\nmark :1\ncommitter Someone Else <someone@example.test> ${when} +0000\n`),
      ...data(message),
      Buffer.from(onTopOf === false ? '' : `from ${onTopOf}^0\n`),
    ];
    for (const [path, content] of Object.entries(edits)) {
      if (content === null) stream.push(Buffer.from(`D ${path}\n`));
      else if (typeof content === 'object' && 'symlinkTo' in content) stream.push(Buffer.from(`M 120000 inline ${path}\n`), ...data(content.symlinkTo));
      else stream.push(Buffer.from(`M 100644 inline ${path}\n`), ...data(content));
    }
    stream.push(Buffer.from('get-mark :1\n'));
    return execFileSync('git', ['fast-import', '--quiet'], { cwd: this.bare, env, input: Buffer.concat(stream), encoding: 'utf8' }).trim();
  }

  /** Commits edits on top of the branch tip, as another contributor would push them; returns the SHA. */
  commit(edits: Edits, message: string, branch = 'main'): string {
    return this.writeCommit(`refs/heads/${branch}`, edits, message, `refs/heads/${branch}`);
  }

  /** The diff `git diff` writes for these edits against the branch tip. */
  diffFor(edits: Edits, branch = 'main'): string {
    this.writeCommit('refs/scratch/diff', edits, 'scratch', `refs/heads/${branch}`);
    return execFileSync('git', ['diff', `refs/heads/${branch}`, 'refs/scratch/diff'], { cwd: this.bare, env, encoding: 'utf8' });
  }

  tip(branch = 'main'): string {
    return git(this.bare, 'rev-parse', `refs/heads/${branch}`);
  }

  /** Full messages of the branch, newest first. */
  messages(branch = 'main'): string[] {
    return git(this.bare, 'log', '--format=%B%x00', branch)
      .split('\0')
      .map((message) => message.trim())
      .filter(Boolean);
  }

  fileAt(path: string, ref = 'main'): string {
    return execFileSync('git', ['show', `${ref}:${path}`], { cwd: this.bare, env, encoding: 'utf8' });
  }

  setPreReceiveHook(script: string): void {
    mkdirSync(join(this.bare, 'hooks'), { recursive: true });
    writeFileSync(join(this.bare, 'hooks', 'pre-receive'), script, { mode: 0o755 });
  }

  workRootEntries(): string[] {
    try {
      return readdirSync(this.workRoot);
    } catch {
      return [];
    }
  }

  /**
   * What operations left in the work root besides the repository cache (src/git/repo-cache.ts): other
   * folders, and in the cache anything but bare repositories without a scratch index or a registered work tree.
   */
  workLeftovers(): string[] {
    return this.workRootEntries().flatMap((entry) => {
      if (!/^wpa-git-.*-cache-/.test(entry)) return [entry];
      const cache = join(this.workRoot, entry);
      return readdirSync(cache).flatMap((repo) => {
        if (!/^[0-9a-f]{32}$/.test(repo)) return [`${entry}/${repo}`];
        const files = readdirSync(join(cache, repo));
        const worktrees = files.includes('worktrees') ? readdirSync(join(cache, repo, 'worktrees')) : [];
        return [...files.filter((file) => file.startsWith('wpa-')), ...worktrees.map((name) => `worktrees/${name}`)].map((file) => `${entry}/${repo}/${file}`);
      });
    });
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
