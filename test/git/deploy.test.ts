import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deployPatch,
  type DeployPatchInput,
  GitError,
  InvalidDiffError,
  PatchDoesNotApplyError,
  PatchRevertedError,
  PushRejectedError,
  RefNotFoundError,
  RevertConflictError,
  revertPatch,
  type RevertPatchInput,
} from '../../src/git';
import { checkoutVersion, CI_PATH, CI_WORKFLOW, git, TestRemote } from './remote-fixture';

const identity = { name: 'Patch Bot', email: 'patch-bot@example.test' };
/** The test remotes are bare repositories on this machine. */
const LOCAL_ALLOWED = { allowLocal: true };

/** The v3 -> v4 diff, made once on a fresh remote (every test's remote starts with the same files). */
let bumpDiff: string | undefined;

function deployInput(remote: TestRemote, overrides: Partial<DeployPatchInput> = {}): DeployPatchInput {
  bumpDiff ??= remote.diffFor(checkoutVersion('v4'));
  return {
    repoUrl: remote.bare,
    branch: 'main',
    diff: bumpDiff,
    patchId: 'patch-1',
    subject: 'ci: pin actions/checkout to v4',
    trailers: { 'Patch-Id': 'patch-1', 'Approved-by': ['alice@example.test', 'bob@example.test'] },
    workRoot: remote.workRoot,
    identity,
    repoUrlPolicy: LOCAL_ALLOWED,
    ...overrides,
  };
}

function revertInput(remote: TestRemote, overrides: Partial<RevertPatchInput> = {}): RevertPatchInput {
  return { repoUrl: remote.bare, branch: 'main', patchId: 'patch-1', workRoot: remote.workRoot, identity, repoUrlPolicy: LOCAL_ALLOWED, ...overrides };
}

function commitsWithLine(remote: TestRemote, line: string): number {
  return remote.messages().filter((message) => message.split('\n').includes(line)).length;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('deployPatch', () => {
  let remote: TestRemote;
  beforeEach(() => {
    remote = new TestRemote();
  });
  afterEach(() => remote.dispose());

  it('applies, commits with trailers as the configured identity and pushes', async () => {
    const before = remote.tip();
    const result = await deployPatch(deployInput(remote));
    expect(result).toEqual({ commitSha: remote.tip(), previousTipSha: before, reused: false, attempts: 1 });
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v4');
    expect(remote.messages()[0]).toBe(
      'ci: pin actions/checkout to v4\n\nPatch-Id: patch-1\nApproved-by: alice@example.test\nApproved-by: bob@example.test',
    );
    expect(git(remote.bare, 'log', '-1', '--format=%(trailers:only,unfold)')).toBe('Patch-Id: patch-1\nApproved-by: alice@example.test\nApproved-by: bob@example.test');
    expect(git(remote.bare, 'log', '-1', '--format=%an <%ae> / %cn <%ce>')).toBe('Patch Bot <patch-bot@example.test> / Patch Bot <patch-bot@example.test>');
    expect(git(remote.bare, 'rev-parse', `${result.commitSha}^`)).toBe(before);
    expect(remote.workLeftovers()).toEqual([]);
  });

  it('reuses the commit when deployed twice: exactly one commit carries the Patch-Id', async () => {
    const first = await deployPatch(deployInput(remote));
    const second = await deployPatch(deployInput(remote));
    expect(second).toEqual({ ...first, reused: true });
    expect(remote.tip()).toBe(first.commitSha);
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(1);
  });

  it("asks git's trailer parser once per message: a patch's next target commits the same message without asking again", async () => {
    const trace = mkdtempSync(join(tmpdir(), 'wpa-trailer-trace-'));
    try {
      const traced = { env: { GIT_TRACE2_EVENT: trace }, subject: `ci: pin actions/checkout to v4 (${randomUUID()})` };
      const parserRuns = (): number =>
        readdirSync(trace).filter((file) => readFileSync(join(trace, file), 'utf8').includes('"argv":["git","interpret-trailers"')).length;
      await deployPatch(deployInput(remote, traced));
      expect(parserRuns()).toBe(1);
      const [second, third] = [new TestRemote(), new TestRemote()];
      try {
        await deployPatch(deployInput(second, traced));
        expect(parserRuns()).toBe(1);
        expect(second.messages()[0]).toBe(remote.messages()[0]);
        // Another message (another approver) is asked again.
        await deployPatch(deployInput(third, { ...traced, trailers: { 'Approved-by': ['carol@example.test'] } }));
        expect(parserRuns()).toBe(2);
      } finally {
        second.dispose();
        third.dispose();
      }
    } finally {
      rmSync(trace, { recursive: true, force: true });
    }
  });

  it('finds the deploy commit below later commits of other people', async () => {
    const first = await deployPatch(deployInput(remote));
    remote.commit({ 'README.md': 'later\n' }, 'docs: later change');
    const again = await deployPatch(deployInput(remote));
    expect(again.reused).toBe(true);
    expect(again.commitSha).toBe(first.commitSha);
  });

  it('re-applies the diff on the new tip when the branch moved between commit and push', async () => {
    let interleaved = '';
    const result = await deployPatch(
      deployInput(remote, {
        beforePush: async ({ attempt }) => {
          if (attempt === 1) interleaved = remote.commit({ 'README.md': 'moved\n' }, 'docs: someone else');
          return Promise.resolve();
        },
      }),
    );
    expect(result.attempts).toBe(2);
    expect(result.reused).toBe(false);
    expect(result.previousTipSha).toBe(interleaved);
    expect(remote.tip()).toBe(result.commitSha);
    expect(git(remote.bare, 'rev-parse', `${result.commitSha}^`)).toBe(interleaved);
    expect(remote.fileAt('README.md')).toBe('moved\n');
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v4');
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(1);
  });

  it('fails with PatchDoesNotApplyError and leaves the remote alone when the moved branch conflicts', async () => {
    let interleaved = '';
    const error = await rejection(
      deployPatch(
        deployInput(remote, {
          beforePush: async ({ attempt }) => {
            if (attempt === 1) interleaved = remote.commit(checkoutVersion('v3.5'), 'ci: someone else bumps checkout');
            return Promise.resolve();
          },
        }),
      ),
    );
    expect(error).toBeInstanceOf(PatchDoesNotApplyError);
    expect((error as PatchDoesNotApplyError).retryable).toBe(false);
    expect((error as PatchDoesNotApplyError).gitMessage).toContain('patch does not apply');
    expect(remote.tip()).toBe(interleaved);
    expect(remote.workLeftovers()).toEqual([]);
  });

  it('refuses a diff that does not apply, and says when its changes are already there', async () => {
    const before = remote.tip();
    const staleDiff = deployInput(remote).diff.replace('-      - uses: actions/checkout@v3', '-      - uses: actions/checkout@v2');
    const stale = await rejection(deployPatch(deployInput(remote, { diff: staleDiff })));
    expect(stale).toBeInstanceOf(PatchDoesNotApplyError);
    remote.commit(checkoutVersion('v4'), 'ci: done by hand');
    const present = await rejection(deployPatch(deployInput(remote)));
    expect(present).toBeInstanceOf(PatchDoesNotApplyError);
    expect((present as PatchDoesNotApplyError).alreadyApplied).toBe(true);
    expect(remote.tip()).not.toBe(before);
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(0);
  });

  it('a push that landed before a crash is found by the retry', async () => {
    let pushed = '';
    const crash = await rejection(
      deployPatch(
        deployInput(remote, {
          beforePush: async ({ dir, commitSha }) => {
            git(dir, 'push', '-q', remote.bare, `${commitSha}:refs/heads/main`);
            pushed = commitSha;
            return Promise.reject(new Error('worker crashed'));
          },
        }),
      ),
    );
    expect(crash).toEqual(new Error('worker crashed'));
    const retry = await deployPatch(deployInput(remote));
    expect(retry).toMatchObject({ commitSha: pushed, reused: true });
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(1);
  });

  it('a concurrent attempt of the same patch wins the race: the loser reuses its commit', async () => {
    let winner = '';
    const loser = await deployPatch(
      deployInput(remote, {
        beforePush: async ({ attempt }) => {
          // Another worker (its own work root), with another identity so the two commits differ even when made within the same second.
          const otherWorker = { name: 'Other Worker', email: 'other@example.test' };
          if (attempt === 1) winner = (await deployPatch(deployInput(remote, { identity: otherWorker, workRoot: join(remote.root, 'other-worker') }))).commitSha;
        },
      }),
    );
    expect(loser).toMatchObject({ commitSha: winner, reused: true, attempts: 2 });
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(1);
  });

  it('gives up with a retryable PushRejectedError when the branch keeps moving', async () => {
    const error = await rejection(
      deployPatch(
        deployInput(remote, {
          maxAttempts: 2,
          beforePush: async ({ attempt }) => {
            remote.commit({ 'README.md': `move ${attempt}\n` }, `docs: move ${attempt}`);
            return Promise.resolve();
          },
        }),
      ),
    );
    expect(error).toBeInstanceOf(PushRejectedError);
    expect(error).toMatchObject({ reason: 'branch-moved', attempts: 2, retryable: true });
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(0);
  });

  it('does not retry a push the remote refuses', async () => {
    remote.setPreReceiveHook('#!/bin/sh\necho "protected branch" >&2\nexit 1\n');
    const error = await rejection(deployPatch(deployInput(remote)));
    expect(error).toMatchObject({ name: 'PushRejectedError', reason: 'remote-rejected', attempts: 1, retryable: false });
    expect((error as PushRejectedError).detail).toContain('protected branch');
  });

  it('refuses unsafe diffs, conflicting trailers and missing branches before pushing anything', async () => {
    const before = remote.tip();
    const unsafe = 'diff --git a/.git/config b/.git/config\n--- a/.git/config\n+++ b/.git/config\n@@ -1 +1 @@\n-a\n+b\n';
    await expect(deployPatch(deployInput(remote, { diff: unsafe }))).rejects.toBeInstanceOf(InvalidDiffError);
    await expect(deployPatch(deployInput(remote, { trailers: { 'Patch-Id': 'other' } }))).rejects.toThrow('set from patchId');
    await expect(deployPatch(deployInput(remote, { trailers: { 'Approved-by': 'a\nPatch-Id: x' } }))).rejects.toThrow('invalid value');
    await expect(deployPatch(deployInput(remote, { subject: 'x\n\nPatch-Id: other' }))).rejects.toThrow('must be one line');
    await expect(deployPatch(deployInput(remote, { subject: 'x\n\nApproved-by: forged-ceo' }))).rejects.toThrow('must be one line');
    await expect(deployPatch(deployInput(remote, { subject: '--- hide the trailers' }))).rejects.toThrow('start of a patch');
    await expect(deployPatch(deployInput(remote, { repoUrlPolicy: { allowLocal: false } }))).rejects.toThrow('local repository');
    await expect(deployPatch(deployInput(remote, { repoUrl: 'ext::sh -c touch% /tmp/pwned' }))).rejects.toThrow('remote-helper');
    await expect(deployPatch(deployInput(remote, { repoUrl: '--upload-pack=touch /tmp/pwned' }))).rejects.toThrow('must not start with "-"');
    await expect(deployPatch(deployInput(remote, { branch: 'nope' }))).rejects.toBeInstanceOf(RefNotFoundError);
    await expect(deployPatch(deployInput(remote, { branch: '--upload-pack=x' }))).rejects.toThrow('invalid branch name');
    expect(remote.tip()).toBe(before);
  });
});

describe('revertPatch', () => {
  let remote: TestRemote;
  beforeEach(() => {
    remote = new TestRemote();
  });
  afterEach(() => remote.dispose());

  it('has nothing to revert when the patch was never deployed', async () => {
    const before = remote.tip();
    await expect(revertPatch(revertInput(remote))).resolves.toEqual({ status: 'nothing-to-revert', reason: 'no-patch-commit', patchCommitSha: null });
    expect(remote.tip()).toBe(before);
  });

  it('reverts once: a second revert reuses the revert commit', async () => {
    const deployed = await deployPatch(deployInput(remote));
    remote.commit({ 'README.md': 'unrelated\n' }, 'docs: unrelated');
    const tipBefore = remote.tip();
    const first = await revertPatch(revertInput(remote, { trailers: { 'Rollback-Reason': 'CI health regressed' } }));
    expect(first).toEqual({
      status: 'reverted',
      revertSha: remote.tip(),
      revertedSha: deployed.commitSha,
      previousTipSha: tipBefore,
      reused: false,
      attempts: 1,
    });
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v3');
    expect(remote.fileAt('README.md')).toBe('unrelated\n');
    expect(remote.messages()[0]).toBe(
      `Revert "ci: pin actions/checkout to v4"\n\nThis reverts commit ${deployed.commitSha}.\n\nReverts-Patch-Id: patch-1\nRollback-Reason: CI health regressed`,
    );
    const second = await revertPatch(revertInput(remote));
    expect(second).toEqual({ ...first, reused: true });
    expect(commitsWithLine(remote, 'Reverts-Patch-Id: patch-1')).toBe(1);
    expect(commitsWithLine(remote, 'Patch-Id: patch-1')).toBe(1);
    expect(remote.workLeftovers()).toEqual([]);
  });

  it('refuses to deploy a reverted patch id again', async () => {
    await deployPatch(deployInput(remote));
    const reverted = await revertPatch(revertInput(remote));
    const error = await rejection(deployPatch(deployInput(remote)));
    expect(error).toBeInstanceOf(PatchRevertedError);
    expect(error).toMatchObject({ revertedBy: reverted.status === 'reverted' ? reverted.revertSha : '', retryable: false });
  });

  it('reports a conflict with later changes as RevertConflictError and pushes nothing', async () => {
    const deployed = await deployPatch(deployInput(remote));
    const later = remote.commit(checkoutVersion('v5'), 'ci: bump checkout again');
    const error = await rejection(revertPatch(revertInput(remote)));
    expect(error).toBeInstanceOf(RevertConflictError);
    expect(error).toMatchObject({ commitSha: deployed.commitSha, conflictedPaths: [CI_PATH], retryable: false });
    expect(remote.tip()).toBe(later);
  });

  it('merges the revert into later changes of the same file (a content merge in a temporary work tree)', async () => {
    const deployed = await deployPatch(deployInput(remote));
    remote.commit({ [CI_PATH]: remote.fileAt(CI_PATH).replace('name: CI', 'name: Continuous integration') }, 'ci: rename the workflow');
    const result = await revertPatch(revertInput(remote));
    expect(result).toMatchObject({ status: 'reverted', revertedSha: deployed.commitSha, reused: false });
    expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW.replace('name: CI', 'name: Continuous integration'));
    expect(remote.workLeftovers()).toEqual([]);
  });

  it('reverts a patch that adds, deletes and changes files, with later commits to other files kept', async () => {
    const diff = remote.diffFor({ 'docs/new.md': 'added\n', 'README.md': null, ...checkoutVersion('v4') });
    const deployed = await deployPatch({ ...revertInput(remote, { patchId: 'patch-files' }), diff, subject: 'ci: add docs, drop the readme' });
    expect(remote.fileAt('docs/new.md')).toBe('added\n');
    remote.commit({ 'LICENSE': 'MIT\n' }, 'add a licence');
    const result = await revertPatch(revertInput(remote, { patchId: 'patch-files' }));
    expect(result).toMatchObject({ status: 'reverted', revertedSha: deployed.commitSha });
    expect(remote.fileAt('README.md')).toBe('hello\n');
    expect(remote.fileAt(CI_PATH)).toBe(CI_WORKFLOW);
    expect(remote.fileAt('LICENSE')).toBe('MIT\n');
    expect(() => remote.fileAt('docs/new.md')).toThrow();
  });

  it('has nothing to revert when later commits already undid the change', async () => {
    const deployed = await deployPatch(deployInput(remote));
    const undone = remote.commit(checkoutVersion('v3'), 'ci: back to v3 by hand');
    await expect(revertPatch(revertInput(remote))).resolves.toEqual({
      status: 'nothing-to-revert',
      reason: 'changes-already-undone',
      patchCommitSha: deployed.commitSha,
    });
    expect(remote.tip()).toBe(undone);
  });

  it('redoes the revert on the new tip when the branch moved before the push', async () => {
    await deployPatch(deployInput(remote));
    let interleaved = '';
    const result = await revertPatch(
      revertInput(remote, {
        beforePush: async ({ attempt }) => {
          if (attempt === 1) interleaved = remote.commit({ 'README.md': 'moved\n' }, 'docs: moved');
          return Promise.resolve();
        },
      }),
    );
    expect(result).toMatchObject({ status: 'reverted', previousTipSha: interleaved, reused: false, attempts: 2 });
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v3');
    expect(remote.fileAt('README.md')).toBe('moved\n');
  });

  it('reverts a patch commit that is the oldest commit the bounded search reads', async () => {
    const deployed = await deployPatch(deployInput(remote));
    remote.commit({ 'README.md': 'one\n' }, 'docs: one');
    remote.commit({ 'README.md': 'two\n' }, 'docs: two');
    const result = await revertPatch(revertInput(remote, { historyDepth: 3 }));
    expect(result).toMatchObject({ status: 'reverted', revertedSha: deployed.commitSha });
    expect(remote.fileAt(CI_PATH)).toContain('actions/checkout@v3');
    expect(remote.fileAt('README.md')).toBe('two\n');
    await expect(revertPatch(revertInput(remote, { patchId: 'patch-1', historyDepth: 1 }))).resolves.toMatchObject({ reused: true });
  });

  it('every error it throws is a GitError with a retryable flag', async () => {
    const error = await rejection(revertPatch(revertInput(remote, { repoUrl: `${remote.root}/missing.git` })));
    expect(error).toBeInstanceOf(GitError);
    expect(error).toMatchObject({ name: 'GitCommandError', retryable: true });
  });
});
