import { deployPatch, proposePatch, proposeRevert, PatchRevertedError, revertPatch } from '../../src/git';
import { checkoutVersion, git, TestRemote } from './remote-fixture';

const identity = { name: 'Patch Bot', email: 'patch-bot@example.test' };
const LOCAL_ALLOWED = { allowLocal: true };
const HEAD = 'wpa/patch-p1';

describe('proposePatch and proposeRevert (a pull request\'s head branch)', () => {
  let remote: TestRemote;
  let diff: string;
  beforeEach(() => {
    remote = new TestRemote();
    diff = remote.diffFor(checkoutVersion('v4'));
  });
  afterEach(() => remote.dispose());

  const base = () => ({ repoUrl: remote.bare, branch: 'main', workRoot: remote.workRoot, identity, repoUrlPolicy: LOCAL_ALLOWED, patchId: 'p1' });
  const propose = () => proposePatch({ ...base(), headBranch: HEAD, diff, subject: 'ci: bump checkout', trailers: { 'Approved-by': ['alice'] } });

  it('pushes the commit to the head branch only, on the base tip, and reuses it on a second attempt', async () => {
    const mainBefore = remote.tip('main');
    const first = await propose();
    expect(first).toMatchObject({ status: 'proposed', baseSha: mainBefore, reused: false });
    expect(remote.tip('main')).toBe(mainBefore);
    expect(first.status === 'proposed' && remote.tip(HEAD)).toBe(first.status === 'proposed' ? first.commitSha : '');
    expect(remote.messages(HEAD)[0]).toContain('Patch-Id: p1\nApproved-by: alice');
    const second = await propose();
    expect(second).toEqual({ ...first, reused: true });
    expect(remote.messages(HEAD).filter((message) => message.includes('Patch-Id: p1'))).toHaveLength(1);
  });

  it('reports a head branch someone else pushed to as taken over, and leaves it alone', async () => {
    await propose();
    const theirs = remote.commit({ 'README.md': 'changed by a person\n' }, 'fix it my way', HEAD);
    expect(await propose()).toEqual({ status: 'taken-over', tipSha: theirs });
    expect(remote.tip(HEAD)).toBe(theirs);
  });

  it('does not count a commit with a forged Patch-Id trailer by another committer as its own', async () => {
    git(remote.bare, 'branch', HEAD, 'main');
    remote.commit({ 'README.md': 'forged\n' }, 'ci: bump checkout\n\nPatch-Id: p1', HEAD);
    const outcome = await propose();
    expect(outcome.status).toBe('taken-over');
  });

  it('says the change is on the base branch once it was merged there', async () => {
    const proposed = await propose();
    if (proposed.status !== 'proposed') throw new Error('expected a proposal');
    const mergeDir = remote.workRoot + '/merge';
    git(remote.workRoot, 'clone', '-q', remote.bare, mergeDir);
    git(mergeDir, '-c', 'user.name=Forge', '-c', 'user.email=forge@example.test', 'merge', '-q', '--no-ff', '-m', 'Merge pull request #1', `origin/${HEAD}`);
    git(mergeDir, 'push', '-q', 'origin', 'main');
    expect(await propose()).toEqual({ status: 'on-base', commitSha: proposed.commitSha });

    const revertHead = 'wpa/revert-p1';
    const revert = await proposeRevert({ ...base(), headBranch: revertHead });
    expect(revert).toMatchObject({ status: 'proposed', reused: false });
    expect(remote.fileAt('.github/workflows/ci.yml', 'main')).toContain('actions/checkout@v4');
    expect(remote.fileAt('.github/workflows/ci.yml', revertHead)).toContain('actions/checkout@v3');
    expect(await proposeRevert({ ...base(), headBranch: revertHead })).toMatchObject({ status: 'proposed', reused: true });
  });

  it('refuses a patch whose revert is on the base branch, and finds that revert from proposeRevert', async () => {
    await deployPatch({ ...base(), diff, subject: 'ci: bump checkout' });
    const reverted = await revertPatch(base());
    if (reverted.status !== 'reverted') throw new Error('expected a revert');
    await expect(propose()).rejects.toBeInstanceOf(PatchRevertedError);
    expect(await proposeRevert({ ...base(), headBranch: 'wpa/revert-p1' })).toEqual({ status: 'on-base', commitSha: reverted.revertSha });
  });

  it('has nothing to revert when the base branch never got the patch', async () => {
    expect(await proposeRevert({ ...base(), headBranch: 'wpa/revert-p1' })).toEqual({ status: 'nothing-to-revert' });
  });

  it('refuses a head branch name git would not accept', async () => {
    await expect(proposePatch({ ...base(), headBranch: 'wpa/../x', diff, subject: 's' })).rejects.toThrow(/branch/);
    await expect(proposePatch({ ...base(), headBranch: '--upload-pack=x', diff, subject: 's' })).rejects.toThrow(/branch/);
  });
});
