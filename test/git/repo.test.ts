import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyDiff,
  checkDiffApplies,
  checkout,
  disposeCheckout,
  findCommitsByTrailer,
  GitTimeoutError,
  InvalidDiffError,
  InvalidInputError,
  OperationAbortedError,
  PatchDoesNotApplyError,
  readTreeAndPaths,
  readTreeObjectsAndPaths,
  RefNotFoundError,
  removeStaleWorkDirs,
  type TreeRead,
  treeWithDiff,
} from '../../src/git';
import { atCachedBranchTip } from '../../src/git/repo-cache';
import { folderOwnerTag } from '../../src/process/owned-folders';
import { identityOf } from '../../src/process/process-identity';
import { CI_PATH, CI_WORKFLOW, checkoutVersion, git, TestRemote } from './remote-fixture';

describe('checkout and tree reads', () => {
  let remote: TestRemote;
  beforeAll(() => {
    remote = new TestRemote({
      [CI_PATH]: CI_WORKFLOW,
      '.github/actions/setup/action.yml': 'name: setup\nruns:\n  using: composite\n  steps: []\n',
      '.github/logo.bin': 'PNG\0\x01\x02',
      'README.md': '\uFEFFhello\n',
    });
    remote.commit(
      { '.github/ci-link.yml': { symlinkTo: 'workflows/ci.yml' }, '.github/latin1.txt': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]) },
      'add a symlink and a latin-1 file',
    );
  });
  afterAll(() => remote.dispose());

  it('checks out the branch tip into a work folder that disposeCheckout removes', async () => {
    const { dir, headSha } = await checkout(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: { allowLocal: true } });
    expect(headSha).toBe(remote.tip());
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(headSha);
    expect(git(dir, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(readFileSync(join(dir, CI_PATH), 'utf8')).toBe(CI_WORKFLOW);
    await expect(disposeCheckout(remote.bare)).rejects.toBeInstanceOf(InvalidInputError);
    await disposeCheckout(dir);
    expect(existsSync(dir)).toBe(false);
    expect(remote.workRootEntries()).toEqual([]);
  });

  it('reads the text files under a glob from a clone, skipping binary, non-UTF-8 and symlinked files', async () => {
    const { dir, headSha } = await checkout(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: { allowLocal: true } });
    try {
      const snapshot = await readTreeAndPaths({ dir }, '.github/**');
      expect(snapshot.commitSha).toBe(headSha);
      expect([...snapshot.files.keys()]).toEqual(['.github/actions/setup/action.yml', CI_PATH]);
      expect(snapshot.files.get(CI_PATH)).toBe(CI_WORKFLOW);
      expect(snapshot.skipped).toEqual([
        { path: '.github/ci-link.yml', reason: 'symlink' },
        { path: '.github/latin1.txt', reason: 'not-utf8' },
        { path: '.github/logo.bin', reason: 'binary' },
      ]);
      const small = await readTreeAndPaths({ dir }, (path) => path.endsWith('.yml') && !path.includes('link'), { maxFileBytes: 100 });
      expect([...small.files.keys()]).toEqual(['.github/actions/setup/action.yml']);
      expect(small.skipped).toEqual([{ path: CI_PATH, reason: 'too-large' }]);
      // Every path, whatever the filter selects (rules ask whether a file exists).
      expect(snapshot.paths).toEqual(git(dir, 'ls-files').split('\n'));
      expect(small.paths).toEqual(snapshot.paths);
      expect(snapshot.paths).toContain('README.md');
      expect(await readTreeAndPaths({ dir, ref: 'HEAD~1' }, '.github/**')).toMatchObject({ commitSha: git(dir, 'rev-parse', 'HEAD~1') });
      await expect(readTreeAndPaths({ dir, ref: '--output=/tmp/x' }, '.github/**')).rejects.toThrow(InvalidInputError);
      // A tree object reads the same, with the diff's change in it (a stage reads a patched tree this way).
      const gitDir = join(dir, '.git');
      const patchedTree = await treeWithDiff(gitDir, headSha, remote.diffFor(checkoutVersion('v4')));
      const [tip, patched] = await readTreeObjectsAndPaths(gitDir, [
        { treeish: headSha, pathFilter: '.github/**' },
        { treeish: patchedTree, pathFilter: '.github/**' },
      ]);
      expect(tip).toEqual({ ...snapshot, commitSha: undefined });
      if (patched === undefined) throw new Error('the patched tree was not read');
      expect(patched.paths).toEqual(snapshot.paths);
      expect(patched.skipped).toEqual(snapshot.skipped);
      expect(patched.files.get(CI_PATH)).toBe(checkoutVersion('v4')[CI_PATH]);
      expect(patched.files.get('.github/actions/setup/action.yml')).toBe(snapshot.files.get('.github/actions/setup/action.yml'));
      await expect(readTreeObjectsAndPaths(gitDir, [{ treeish: '--output=/tmp/x', pathFilter: '.github/**' }])).rejects.toThrow(InvalidInputError);
      await expect(readTreeObjectsAndPaths(gitDir, [{ treeish: 'HEAD', pathFilter: '.github/**' }])).rejects.toThrow('not a full tree or commit SHA: HEAD');
    } finally {
      await disposeCheckout(dir);
    }
  });

  it('reads a remote branch in its cached repository without a work tree, keeping a byte order mark', async () => {
    const options = { repoUrlPolicy: { allowLocal: true } };
    const readBranch = (branch: string): Promise<TreeRead & { commitSha: string }> =>
      atCachedBranchTip(remote.bare, branch, remote.workRoot, options, async ({ gitDir, commitSha }) => {
        const [read] = await readTreeObjectsAndPaths(gitDir, [{ treeish: commitSha, pathFilter: ['README.md'] }], options);
        if (read === undefined) throw new Error('nothing was read');
        return { commitSha, ...read };
      });
    const read = await readBranch('main');
    expect(read.commitSha).toBe(remote.tip());
    expect(read.files).toEqual(new Map([['README.md', '\uFEFFhello\n']]));
    expect(read.paths).toEqual(expect.arrayContaining(['.github/ci-link.yml', 'README.md', CI_PATH]));
    await expect(readBranch('no-such-branch')).rejects.toBeInstanceOf(RefNotFoundError);
    await expect(readBranch('--upload-pack=touch /tmp/x')).rejects.toBeInstanceOf(InvalidInputError);
    // The branch's cached repository, bare: nothing else is left.
    expect(remote.workRootEntries()).toEqual([expect.stringContaining('-cache-')]);
  });
});

describe('checkDiffApplies and applyDiff', () => {
  let remote: TestRemote;
  beforeAll(() => {
    remote = new TestRemote();
  });
  afterAll(() => remote.dispose());

  it('checks, applies to the index, and refuses a stale diff without touching the tree', async () => {
    const diff = remote.diffFor(checkoutVersion('v4'));
    const { dir } = await checkout(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: { allowLocal: true } });
    try {
      await expect(checkDiffApplies(dir, diff)).resolves.toEqual({ applies: true });
      expect(git(dir, 'status', '--porcelain')).toBe('');
      await applyDiff(dir, diff);
      expect(git(dir, 'diff', '--cached', '--name-only')).toBe(CI_PATH);
      expect(readFileSync(join(dir, CI_PATH), 'utf8')).toContain('actions/checkout@v4');

      const again = await checkDiffApplies(dir, diff);
      expect(again).toMatchObject({ applies: false, alreadyApplied: true });
      // A context line the branch no longer has: the diff applies in neither direction.
      const stale = diff.replace('       - run: npm ci', '       - run: npm install');
      expect(stale).not.toBe(diff);
      const error = await applyDiff(dir, stale).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PatchDoesNotApplyError);
      expect(error).toMatchObject({ alreadyApplied: false, gitMessage: expect.stringContaining('patch does not apply') as unknown });
      expect(git(dir, 'diff', '--cached', '--name-only')).toBe(CI_PATH);
      await expect(checkDiffApplies(dir, 'diff --git a/.git/config b/.git/config\n')).rejects.toBeInstanceOf(InvalidDiffError);
    } finally {
      await disposeCheckout(dir);
    }
  });
});

describe('findCommitsByTrailer', () => {
  let remote: TestRemote;
  let dir: string;
  const shas: Record<string, string> = {};
  beforeAll(async () => {
    remote = new TestRemote();
    shas.p1 = remote.commit({ 'a.txt': '1\n' }, 'one\n\nPatch-Id: p1\nApproved-by: alice');
    shas.p10 = remote.commit({ 'a.txt': '2\n' }, 'ten\n\npatch-id: p10');
    shas.revert = remote.commit({ 'a.txt': '3\n' }, 'revert one\n\nReverts-Patch-Id: p1');
    shas.body = remote.commit({ 'a.txt': '4\n' }, 'mentions Patch-Id: p1 in the subject\n\nPatch-Id: p1 is not a trailer here.\n\nSigned-off-by: x <x@y>');
    ({ dir } = await checkout(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: { allowLocal: true } }));
  });
  afterAll(async () => {
    await disposeCheckout(dir);
    remote.dispose();
  });

  it('matches the trailer key case-insensitively and the value exactly, newest first', async () => {
    await expect(findCommitsByTrailer(dir, 'Patch-Id', 'p1')).resolves.toEqual([
      { sha: shas.p1, parentShas: [git(dir, 'rev-parse', `${shas.p1}^`)], subject: 'one' },
    ]);
    await expect(findCommitsByTrailer(dir, 'Patch-Id', 'p10')).resolves.toMatchObject([{ sha: shas.p10 }]);
    await expect(findCommitsByTrailer(dir, 'Reverts-Patch-Id', 'p1')).resolves.toMatchObject([{ sha: shas.revert }]);
    await expect(findCommitsByTrailer(dir, 'Patch-Id', 'p')).resolves.toEqual([]);
  });

  it('searches only the last `limit` commits', async () => {
    await expect(findCommitsByTrailer(dir, 'Patch-Id', 'p1', { limit: 3 })).resolves.toEqual([]);
    await expect(findCommitsByTrailer(dir, 'Patch-Id', 'p1', { historyDepth: 4 })).resolves.toHaveLength(1);
    await expect(findCommitsByTrailer(dir, 'Patch-Id),%(foo', 'p1')).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('git process control', () => {
  let remote: TestRemote;
  beforeAll(() => {
    remote = new TestRemote();
  });
  afterAll(() => remote.dispose());

  // An ssh "transport" that hangs stands in for an unresponsive server.
  const hangingSsh = { env: { GIT_SSH_COMMAND: 'sleep 30 #' } };

  it('kills a git command that passes its time limit', async () => {
    const started = Date.now();
    const error = await checkout('ssh://example.invalid/repo.git', 'main', remote.workRoot, { ...hangingSsh, timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GitTimeoutError);
    expect(error).toMatchObject({ retryable: true, timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(remote.workRootEntries()).toEqual([]);
  });

  it('stops at once when the AbortSignal fires, and redacts credentials from errors', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('activity cancelled')), 200);
    const url = 'ssh://s3cret-user@example.invalid/repo.git';
    const error = await checkout(url, 'main', remote.workRoot, { ...hangingSsh, signal: controller.signal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OperationAbortedError);
    expect(remote.workRootEntries()).toEqual([]);
    const timeout = await atCachedBranchTip(url, 'main', remote.workRoot, { ...hangingSsh, timeoutMs: 200 }, () => Promise.resolve()).catch((caught: unknown) => caught);
    expect(timeout).toBeInstanceOf(GitTimeoutError);
    expect(String((timeout as Error).message)).not.toContain('s3cret');
    expect(String((timeout as Error).message)).toContain('ssh://***@example.invalid');
    const withPassword = await checkout('https://user:s3cret@example.invalid/repo.git', 'main', remote.workRoot).catch((caught: unknown) => caught);
    expect(withPassword).toBeInstanceOf(InvalidInputError);
    expect(String((withPassword as Error).message)).not.toContain('s3cret');
  });

  it('removes work folders left behind by an ended process and keeps those of live ones', async () => {
    const { dir } = await checkout(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: { allowLocal: true } });
    expect(dir).toContain(`wpa-git-${folderOwnerTag({ pid: process.pid, startTicks: (await identityOf(process.pid))?.startTicks ?? 0 })}-checkout-`);
    const ended = spawnSync('true').pid;
    const left = join(remote.workRoot, `wpa-git-${folderOwnerTag({ pid: ended, startTicks: 1 })}-checkout-abc123`);
    mkdirSync(join(left, '.git'), { recursive: true });
    await expect(removeStaleWorkDirs(remote.workRoot)).resolves.toEqual([left]);
    expect(existsSync(left)).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });
});
