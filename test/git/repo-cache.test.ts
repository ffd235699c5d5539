import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployPatch, type DeployPatchInput, proposeRevert, revertPatch, type RevertPatchInput } from '../../src/git';
import { atCachedBranchTip, RepoCache } from '../../src/git/repo-cache';
import { checkoutVersion, CI_PATH, CI_WORKFLOW, git, TestRemote } from './remote-fixture';

const LOCAL_ALLOWED = { allowLocal: true };

function deployInput(remote: TestRemote, patchId: string, overrides: Partial<DeployPatchInput> = {}): DeployPatchInput {
  return {
    repoUrl: remote.bare,
    branch: 'main',
    diff: overrides.diff ?? remote.diffFor(checkoutVersion('v4')),
    patchId,
    subject: 'ci: pin actions/checkout to v4',
    workRoot: remote.workRoot,
    repoUrlPolicy: LOCAL_ALLOWED,
    ...overrides,
  };
}

function revertInput(remote: TestRemote, patchId: string, overrides: Partial<RevertPatchInput> = {}): RevertPatchInput {
  return { repoUrl: remote.bare, branch: 'main', patchId, workRoot: remote.workRoot, repoUrlPolicy: LOCAL_ALLOWED, ...overrides };
}

/** The cached repositories of a work root (one folder per repository and branch). */
function cachedRepos(workRoot: string): string[] {
  return readdirSync(workRoot)
    .filter((entry) => entry.includes('-cache-'))
    .flatMap((cache) => readdirSync(join(workRoot, cache)).map((repo) => join(workRoot, cache, repo)));
}

describe('the repository cache of deploys and reverts', () => {
  let remote: TestRemote;
  beforeEach(() => {
    remote = new TestRemote();
  });
  afterEach(() => remote.dispose());

  it('keeps one repository per branch and sees what others pushed between two uses (the lease refuses the known tip)', async () => {
    const deployed = await deployPatch(deployInput(remote, 'patch-1'));
    const [repo] = cachedRepos(remote.workRoot);
    expect(cachedRepos(remote.workRoot)).toHaveLength(1);
    // Someone else's commits after the deploy: the revert must commit on them, not on the cached tip.
    remote.commit({ 'README.md': 'changed by someone else\n' }, 'docs: someone else');
    const moved = remote.tip();
    const reverted = await revertPatch(revertInput(remote, 'patch-1'));
    expect(reverted).toMatchObject({ status: 'reverted', revertedSha: deployed.commitSha, previousTipSha: moved, reused: false });
    expect(cachedRepos(remote.workRoot)).toEqual([repo]);
    expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW);
    expect(remote.fileAt('README.md')).toBe('changed by someone else\n');
    expect(remote.workLeftovers()).toEqual([]);
  });

  it('does not take a branch deleted since the last use from the cache', async () => {
    await deployPatch(deployInput(remote, 'patch-1'));
    git(remote.bare, 'branch', '-m', 'main', 'renamed');
    await expect(revertPatch(revertInput(remote, 'patch-1'))).rejects.toMatchObject({ name: 'RefNotFoundError' });
  });

  it('lands a revert right after the deploy from the tip the deploy pushed, without fetching', async () => {
    const deployed = await deployPatch(deployInput(remote, 'patch-1'));
    // The remote stops serving the branch to fetches; pushes still reach it.
    git(remote.bare, 'config', 'uploadpack.hideRefs', 'refs/heads/main');
    expect(await revertPatch(revertInput(remote, 'patch-1'))).toMatchObject({ status: 'reverted', revertedSha: deployed.commitSha, previousTipSha: deployed.commitSha, reused: false });
    expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW);
  });

  it("makes a tip's tree with a diff once while the repository is kept: the deploy commits the tree the tests made", async () => {
    const diff = remote.diffFor(checkoutVersion('v4'));
    const tree = (signal?: AbortSignal): Promise<{ commitSha: string; tree: string }> =>
      atCachedBranchTip(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: LOCAL_ALLOWED }, async ({ commitSha, treeWithDiff }) => ({ commitSha, tree: await treeWithDiff(commitSha, diff, { signal }) }));
    const tested = await tree();
    expect(tested.commitSha).toBe(remote.tip());
    // Asked again with a signal that stops every git run: the tree is remembered, no git runs.
    const stopped = AbortSignal.abort(new Error('stopped'));
    expect(await tree(stopped)).toEqual(tested);
    const deployed = await deployPatch(deployInput(remote, 'patch-1', { diff }));
    expect(git(remote.bare, 'rev-parse', `${deployed.commitSha}^{tree}`)).toBe(tested.tree);
    expect(git(remote.bare, 'rev-parse', `${deployed.commitSha}^`)).toBe(tested.commitSha);
    // Forgotten with the repository's files: made again, which the stopped signal stops.
    rmSync(remote.workRoot, { recursive: true, force: true });
    await expect(
      atCachedBranchTip(remote.bare, 'main', remote.workRoot, { repoUrlPolicy: LOCAL_ALLOWED }, ({ treeWithDiff }) => treeWithDiff(tested.commitSha, diff, { signal: stopped })),
    ).rejects.toMatchObject({ name: 'OperationAbortedError' });
  });

  it('hands a fetch over to the next operation on the branch once, within its time, and to none after another operation', async () => {
    const options = { repoUrlPolicy: LOCAL_ALLOWED };
    const tipAt = (reuse: Parameters<typeof atCachedBranchTip>[5]): Promise<string> => atCachedBranchTip(remote.bare, 'main', remote.workRoot, options, ({ commitSha }) => Promise.resolve(commitSha), reuse);
    const read = remote.tip();
    expect(await tipAt({ handOver: true })).toBe(read);
    remote.commit({ 'README.md': 'moved after the read\n' }, 'docs: moved');
    const moved = remote.tip();
    // Taken: the tip the read fetched, no fetch (which would see the moved branch).
    expect(await tipAt({ handedOverWithinMs: 30_000 })).toBe(read);
    // Taken once: the next one fetches.
    expect(await tipAt({ handedOverWithinMs: 30_000 })).toBe(moved);
    // Without a handover nothing is taken, however recent the fetch.
    remote.commit({ 'README.md': 'moved again\n' }, 'docs: moved again');
    expect(await tipAt({ handedOverWithinMs: 30_000 })).toBe(remote.tip());
    // An operation in between lets it go; so does time.
    expect(await tipAt({ handOver: true })).toBe(remote.tip());
    expect(await tipAt({})).toBe(remote.tip());
    remote.commit({ 'README.md': 'and again\n' }, 'docs: and again');
    expect(await tipAt({ handedOverWithinMs: 30_000 })).toBe(remote.tip());
    expect(await tipAt({ handOver: true })).toBe(remote.tip());
    remote.commit({ 'README.md': 'once more\n' }, 'docs: once more');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await tipAt({ handedOverWithinMs: 10 })).toBe(remote.tip());
  });

  it('throws a repository away after a failed git run and fetches it afresh', async () => {
    await deployPatch(deployInput(remote, 'patch-1'));
    const [repo = ''] = cachedRepos(remote.workRoot);
    // Someone else's commit: the push from the known tip is refused, so the revert fetches.
    remote.commit({ 'README.md': 'changed by someone else\n' }, 'docs: someone else');
    // What a fetch killed in the middle leaves behind: the tracking ref's lock.
    writeFileSync(join(repo, 'refs', 'remotes', 'origin', 'main.lock'), '');
    await expect(revertPatch(revertInput(remote, 'patch-1'))).rejects.toMatchObject({ name: 'GitCommandError' });
    expect(existsSync(repo)).toBe(false);
    expect(await revertPatch(revertInput(remote, 'patch-1'))).toMatchObject({ status: 'reverted', reused: false });
    expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW);
  });

  it('finds a patch deep in the history after a pull request head was looked up (a shallow fetch of a branch sharing it)', async () => {
    const deployed = await deployPatch(deployInput(remote, 'patch-1'));
    for (let index = 0; index < 3; index++) remote.commit({ [`docs/${index}.md`]: `${index}\n` }, `docs: ${index}`);
    const head = 'wpa/revert-patch-1';
    await proposeRevert({ ...revertInput(remote, 'patch-1'), headBranch: head });
    // The second proposal finds the head branch (fetched two commits deep, which would cut the branch's history).
    expect(await proposeRevert({ ...revertInput(remote, 'patch-1'), headBranch: head })).toMatchObject({ status: 'proposed', reused: true });
    const reverted = await revertPatch(revertInput(remote, 'patch-1'));
    expect(reverted).toMatchObject({ status: 'reverted', revertedSha: deployed.commitSha, reused: false });
    expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW);
  });

  it('makes the repository again when the work root was emptied', async () => {
    await deployPatch(deployInput(remote, 'patch-1'));
    rmSync(remote.workRoot, { recursive: true, force: true });
    expect(await revertPatch(revertInput(remote, 'patch-1'))).toMatchObject({ status: 'reverted', reused: false });
  });

  it('removes the least recently used repository beyond its limit, never one in use', async () => {
    const others = [new TestRemote(), new TestRemote()];
    try {
      const cache = new RepoCache(join(remote.root, 'cache-work'), 2);
      const tips: string[] = [];
      const remotes = [remote, ...others];
      for (const target of remotes) {
        tips.push(await cache.withBranch(target.bare, 'main', { repoUrlPolicy: LOCAL_ALLOWED }, ({ gitDir }) => Promise.resolve(git(gitDir, 'rev-parse', 'refs/remotes/origin/main'))));
      }
      expect(tips).toEqual(remotes.map((target) => target.tip()));
      expect(cachedRepos(join(remote.root, 'cache-work'))).toHaveLength(2);
      // Using the evicted one again, while the two others are held, exceeds the limit without removing them.
      const held = await Promise.all(
        remotes.map((target) => cache.withBranch(target.bare, 'main', { repoUrlPolicy: LOCAL_ALLOWED }, ({ gitDir }) => Promise.resolve(existsSync(join(gitDir, 'HEAD'))))),
      );
      expect(held).toEqual([true, true, true]);
      expect(cachedRepos(join(remote.root, 'cache-work'))).toHaveLength(2);
    } finally {
      for (const other of others) other.dispose();
    }
  });

  it('runs the operations on one repository one at a time', async () => {
    const cache = new RepoCache(join(remote.root, 'cache-work'));
    const events: string[] = [];
    const use = (name: string) =>
      cache.withBranch(remote.bare, 'main', { repoUrlPolicy: LOCAL_ALLOWED }, async () => {
        events.push(`${name} start`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        events.push(`${name} end`);
      });
    await Promise.all([use('a'), use('b')]);
    expect(events).toEqual(['a start', 'a end', 'b start', 'b end']);
  });
});
