/**
 * Idempotent deploy and revert of a patch on a target branch, safe to repeat after a crash at any point:
 * the branch itself is the ledger. A deploy commit carries the trailer `Patch-Id: <id>`, a revert commit
 * `Reverts-Patch-Id: <id>`; every attempt looks for them on the fetched branch, so a push that landed before a
 * crash (or by a concurrent attempt) is found and reused instead of repeated. A landing moments after the tests or
 * the deploy fetched or pushed the branch tries that tip first without a fetch; only its push is taken from that
 * view (the lease proves the tip is still the branch's), anything else is decided again after a fetch.
 *
 * Pushes name the expected old tip (`--force-with-lease=<ref>:<expected>`), so someone else's commit is never
 * overwritten. When the branch moved, the next attempt starts again from the new tip: the diff is re-applied
 * exactly (not rebased, so no merge base and no deep history is needed) or the revert is redone.
 *
 * The search reads the last `historyDepth` commits (default 500): a marker older than that is not seen, so a
 * very busy branch needs a larger depth.
 *
 * A patch id whose deploy was reverted is never deployed again (PatchRevertedError): the orchestrator must
 * issue a new patch id, which also forces a new approval of the change against the current branch.
 */
import { rm } from 'node:fs/promises';
import { changedFiles } from './diff-paths';
import {
  GitCommandError,
  GitStateError,
  InvalidInputError,
  OperationAbortedError,
  PatchRevertedError,
  PushRejectedError,
  RevertConflictError,
} from './errors';
import { DEFAULT_IDENTITY, type GitOptions, gitText, repoUrlPolicyOf, runGit } from './git-cli';
import { type CommitAndTree, commitTree, PATCH_ID_TRAILER, REVERTS_PATCH_ID_TRAILER, type Trailers, trailerLines } from './commit-message';
import { type CachedBranch, repoCacheOf } from './repo-cache';
import { searchTrailers, trackingRef, type TrailerCommit, withScratchIndex, withWorkDir } from './repo';
import { assertRepoUrl } from './repo-url';
import { assertBranchName, commitSubjectProblem, redactCredentials } from './validate';

export const DEFAULT_MAX_ATTEMPTS = 3;

/** The moment between creating a commit and pushing it, when tests move the branch to exercise the retry. */
export interface PushAttempt {
  attempt: number;
  /** The repository the commit is in (a bare one: src/git/repo-cache.ts). */
  dir: string;
  commitSha: string;
  expectedTipSha: string;
}

interface LandingInput extends GitOptions {
  repoUrl: string;
  branch: string;
  workRoot: string;
  /** Push attempts when the branch keeps moving, default 3. */
  maxAttempts?: number;
  /** Called after the commit is made and before it is pushed: a last check that may refuse (throw), and a test seam. */
  beforePush?: (attempt: PushAttempt) => Promise<void>;
}

/** A commit proposed on a branch of its own (a pull request's head), made on the tip of `branch`. */
export interface SideBranchInput {
  /** The branch the commit is pushed to; it must not exist yet, or hold this very proposal. */
  headBranch: string;
}

export interface DeployPatchInput extends LandingInput {
  diff: string;
  patchId: string;
  /** The commit's subject, one line (see commitSubjectProblem); the module adds the trailers as the only other paragraph. */
  subject: string;
  /** Added after `Patch-Id`; a `Patch-Id` entry here must equal patchId. */
  trailers?: Trailers;
}

export interface DeployResult {
  commitSha: string;
  /** The branch tip the commit was made on (its parent). */
  previousTipSha: string;
  /** True when the branch already had a commit with this Patch-Id and nothing was pushed. */
  reused: boolean;
  attempts: number;
}

export interface RevertPatchInput extends LandingInput {
  patchId: string;
  /** Added after `Reverts-Patch-Id` (e.g. the reason or the approvers of the rollback). */
  trailers?: Trailers;
}

export type RevertResult =
  | {
      status: 'reverted';
      revertSha: string;
      /** The patch commit; null only when a reused revert's patch commit is older than historyDepth. */
      revertedSha: string | null;
      previousTipSha: string;
      reused: boolean;
      attempts: number;
    }
  | {
      status: 'nothing-to-revert';
      /** No commit with the Patch-Id within historyDepth, or its changes are already undone by other commits. */
      reason: 'no-patch-commit' | 'changes-already-undone';
      patchCommitSha: string | null;
    };

type AttemptOutcome<T> = { done: T } | { commitSha: string; landed: (attempts: number) => T };

interface AttemptContext {
  /** The branch's cached bare repository (src/git/repo-cache.ts). */
  cached: CachedBranch;
  workRoot: string;
  tip: CommitAndTree;
  /** The newest commits of the branch carrying the patch's deploy and revert trailers. */
  markers: PatchMarkers;
  attempt: number;
  purpose: LandingPurpose;
}

interface PatchMarkers {
  patch?: TrailerCommit;
  revert?: TrailerCommit;
}

function assertLandingInput(input: LandingInput): number {
  assertRepoUrl(input.repoUrl, repoUrlPolicyOf(input));
  assertBranchName(input.branch);
  const maxAttempts = input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new InvalidInputError('maxAttempts must be a positive integer');
  return maxAttempts;
}

type PushOutcome = { ok: true } | { ok: false; reason: 'branch-moved' | 'remote-rejected'; detail: string };

/** Pushes `commitSha` to the branch only if the branch is still at `expectedTipSha`. */
async function pushWithLease(dir: string, repoUrl: string, branch: string, commitSha: string, expectedTipSha: string, options: GitOptions): Promise<PushOutcome> {
  const args = ['push', '--porcelain', '--no-verify', `--force-with-lease=refs/heads/${branch}:${expectedTipSha}`, '--', repoUrl, `${commitSha}:refs/heads/${branch}`];
  const run = await runGit(dir, args, options, { okExitCodes: [0, 1] });
  if (run.exitCode === 0) return { ok: true };
  // Porcelain status line of a refused ref: "!<TAB><from>:<to><TAB>[rejected] (stale info)".
  const refused = run.stdout.toString('utf8').split('\n').find((line) => line.startsWith('!'));
  if (!refused) throw new GitCommandError(args.map(redactCredentials), run.exitCode, run.stderr.slice(-2_000));
  const detail = refused.split('\t')[2] ?? refused;
  // "[rejected]" is the client's lease/fast-forward check; a server losing a ref-update race says so too.
  const moved = detail.startsWith('[rejected]') || /cannot lock ref|failed to update ref|incorrect old value/.test(detail);
  return { ok: false, reason: moved ? 'branch-moved' : 'remote-rejected', detail: `${detail}${moved ? '' : ` ${run.stderr.trim()}`}` };
}

/**
 * A landing on the branch itself starts from the tip its cached repository fetched or pushed this recently (a
 * deploy shortly after the tests fetched it, a revert after the deploy), without a fetch: the push's lease tells
 * whether that tip is still the branch's. Older than this, the branch has likely moved and a fetch comes first.
 */
const REUSE_KNOWN_TIP_MS = 60_000;

/** What a landing commits, named in the folder of a revert that needs a work tree. */
type LandingPurpose = 'deploy' | 'propose' | 'revert' | 'propose-revert';

/**
 * In the branch's cached repository (fetched), per attempt: (after the first, fetch the moved tip), let `attempt`
 * decide (done, or a commit to push), push with the tip as lease. Stops on success, on a `done` answer or on a
 * hard refusal. No work tree: commits are made from trees (treeWithDiff, trivialRevertTree).
 */
async function landOnBranch<T>(
  input: LandingInput & Partial<SideBranchInput>,
  purpose: LandingPurpose,
  patchId: string,
  attempt: (context: AttemptContext) => Promise<AttemptOutcome<T>>,
): Promise<T> {
  const maxAttempts = assertLandingInput(input);
  if (input.headBranch !== undefined) assertBranchName(input.headBranch);
  return repoCacheOf(input.workRoot).withBranch(
    input.repoUrl,
    input.branch,
    input,
    async (cached) => {
      // The branch as an operation moments ago left it, unfetched: only a push is taken from it (its lease proves
      // that tip is still the branch's); any other answer, a refusal or an error is found again after a fetch.
      if (cached.fromEarlierOperation) {
        const landing = await landingAttempt(cached, input, purpose, patchId, 1, attempt).catch((error: unknown) => {
          if (error instanceof OperationAbortedError) throw error;
          return undefined;
        });
        if (landing?.kind === 'landed') return landing.landed;
        await cached.refetch();
      }
      let lastRefusal = '';
      for (let number = 1; number <= maxAttempts; number++) {
        if (number > 1) await cached.refetch();
        const landing = await landingAttempt(cached, input, purpose, patchId, number, attempt);
        if (landing.kind === 'done') return landing.done;
        if (landing.kind === 'landed') return landing.landed;
        if (landing.reason === 'remote-rejected') throw new PushRejectedError('remote-rejected', landing.detail, number);
        lastRefusal = landing.detail;
      }
      throw new PushRejectedError('branch-moved', lastRefusal, maxAttempts);
    },
    // A pull request's branch is pushed without the base branch's tip as lease: its landings always fetch.
    input.headBranch === undefined ? { knownWithinMs: REUSE_KNOWN_TIP_MS } : {},
  );
}

/** One attempt of landOnBranch on the branch's tip as the cached repository knows it: its answer, what it landed, or why the push was refused. */
async function landingAttempt<T>(
  cached: CachedBranch,
  input: LandingInput & Partial<SideBranchInput>,
  purpose: LandingPurpose,
  patchId: string,
  number: number,
  attempt: (context: AttemptContext) => Promise<AttemptOutcome<T>>,
): Promise<{ kind: 'done'; done: T } | { kind: 'landed'; landed: T } | { kind: 'refused'; reason: 'branch-moved' | 'remote-rejected'; detail: string }> {
  const dir = cached.gitDir;
  // One log gives the tip and the patch's markers.
  const { tip, markers } = await patchMarkers(dir, cached.tip() ?? trackingRef(input.branch), input.branch, patchId, input);
  const outcome = await attempt({ cached, workRoot: input.workRoot, tip, markers, attempt: number, purpose });
  if ('done' in outcome) return { kind: 'done', done: outcome.done };
  await input.beforePush?.({ attempt: number, dir, commitSha: outcome.commitSha, expectedTipSha: tip.sha });
  // A side branch must not exist yet (an empty lease): one that appeared meanwhile is inspected by the next attempt.
  const onBranch = input.headBranch === undefined;
  const pushed = await pushWithLease(dir, input.repoUrl, input.headBranch ?? input.branch, outcome.commitSha, onBranch ? tip.sha : '', input);
  if (!pushed.ok) return { kind: 'refused', reason: pushed.reason, detail: pushed.detail };
  // What the branch is now, for a revert or another landing moments later.
  if (onBranch) cached.pushed(outcome.commitSha);
  return { kind: 'landed', landed: outcome.landed(number) };
}

/** The branch's tip (`ref`: its known SHA or tracking ref), and the newest commits on it carrying the patch's deploy and revert trailers. */
async function patchMarkers(dir: string, ref: string, branch: string, patchId: string, options: GitOptions): Promise<{ tip: CommitAndTree; markers: PatchMarkers }> {
  const search = await searchTrailers(dir, [PATCH_ID_TRAILER, REVERTS_PATCH_ID_TRAILER], patchId, { ...options, ref });
  if (search.tip === undefined) throw new GitStateError(`branch ${branch} has no commits`);
  const [patches = [], reverts = []] = search.found;
  return { tip: search.tip, markers: { patch: patches[0], revert: reverts[0] } };
}

/** The first parent of a commit found by the trailer search (present: the clone is deeper than the search). */
function firstParent(found: TrailerCommit): string {
  const [parent] = found.parentShas;
  if (parent === undefined) throw new GitStateError(`commit ${found.sha} has no parent`);
  return parent;
}

/** Applies, commits and pushes a patch once per branch; see the module comment for the guarantees. */
export async function deployPatch(input: DeployPatchInput): Promise<DeployResult> {
  // Refuse an unsafe diff before cloning anything (applyDiff checks again).
  changedFiles(input.diff);
  const subjectProblem = commitSubjectProblem(input.subject);
  if (subjectProblem) throw new InvalidInputError(`the commit subject ${subjectProblem}`);
  const trailers = trailerLines(PATCH_ID_TRAILER, input.patchId, input.trailers);
  return landOnBranch<DeployResult>(input, 'deploy', input.patchId, async ({ cached, tip, markers: { patch, revert }, attempt }) => {
    if (revert) throw new PatchRevertedError(input.patchId, revert.sha);
    if (patch) {
      const previousTipSha = firstParent(patch);
      return { done: { commitSha: patch.sha, previousTipSha, reused: true, attempts: attempt } };
    }
    const commitSha = await commitChange(cached, input, trailers, tip);
    return { commitSha, landed: (attempts) => ({ commitSha, previousTipSha: tip.sha, reused: false, attempts }) };
  });
}

/**
 * The tree of `tip` with `patch` undone, merged in a scratch index without a work tree (`read-tree -m`: base the
 * patch, ours the tip, theirs the patch's parent), when every path merges trivially: the patch's files are as it
 * left them, or only one side changed them. Undefined when a path needs a content merge.
 */
async function trivialRevertTree(gitDir: string, patch: TrailerCommit, parentSha: string, tip: CommitAndTree, options: GitOptions): Promise<string | undefined> {
  return withScratchIndex(gitDir, options, async (inIndex) => {
    await runGit(gitDir, ['read-tree', '-m', '-i', '--aggressive', patch.sha, tip.sha, parentSha], inIndex);
    // write-tree refuses an index with unmerged paths (exit 128).
    const written = await runGit(gitDir, ['write-tree'], inIndex, { okExitCodes: [0, 128] });
    return written.exitCode === 0 ? written.stdout.toString('utf8').trim() : undefined;
  });
}

/**
 * `git revert --no-commit` of `patch` on the tip in a temporary work tree of the cached repository (a worktree:
 * it shares the objects), for a revert whose paths need a content merge. Returns the merged tree.
 */
async function mergedRevertTree(context: AttemptContext, patch: TrailerCommit, options: GitOptions): Promise<string> {
  const { gitDir } = context.cached;
  return withWorkDir(context.workRoot, context.purpose, async (workTree) => {
    await runGit(gitDir, ['worktree', 'add', '-q', '--detach', workTree, context.tip.sha], options);
    try {
      const reverted = await runGit(workTree, ['revert', '--no-commit', patch.sha], options, { okExitCodes: [0, 1] });
      if (reverted.exitCode !== 0) {
        const conflicted = await gitText(workTree, ['diff', '--name-only', '--diff-filter=U', '-z'], options);
        throw new RevertConflictError(patch.sha, conflicted.split('\0').filter(Boolean), reverted.stderr);
      }
      return await gitText(workTree, ['write-tree'], options);
    } finally {
      await rm(workTree, { recursive: true, force: true, maxRetries: 3 });
      await runGit(gitDir, ['worktree', 'prune'], options);
    }
  });
}

/**
 * Commits the revert of `patch` on the tip; undefined when the tip already has none of the patch's changes (other
 * commits undid them). Most reverts merge trivially in a scratch index; otherwise `git revert` merges the
 * contents in a work tree as it always does.
 */
async function commitRevert(context: AttemptContext, patch: TrailerCommit, trailers: readonly [string, string][], options: GitOptions): Promise<string | undefined> {
  // A merge has no single change to undo, and reverting a root commit would delete every file.
  if (patch.parentShas.length !== 1) throw new GitStateError(`patch commit ${patch.sha} has ${patch.parentShas.length} parents`);
  const { gitDir } = context.cached;
  const message = `Revert "${patch.subject}"\n\nThis reverts commit ${patch.sha}.\n`;
  const tree = (await trivialRevertTree(gitDir, patch, firstParent(patch), context.tip, options)) ?? (await mergedRevertTree(context, patch, options));
  return commitTree(gitDir, message, trailers, context.tip, tree, options);
}

/** Commits the diff applied to the tip's tree (made by the tests already when they tested this tip), which it must change. */
async function commitChange(cached: CachedBranch, input: DeployPatchInput, trailers: readonly [string, string][], tip: CommitAndTree): Promise<string> {
  const commitSha = await commitTree(cached.gitDir, input.subject, trailers, tip, await cached.treeWithDiff(tip.sha, input.diff, input), input);
  if (commitSha === undefined) throw new GitStateError(`the diff changes nothing on ${tip.sha}`);
  return commitSha;
}

/** Reverts the commit that deployed the patch, once per branch; see the module comment for the guarantees. */
export async function revertPatch(input: RevertPatchInput): Promise<RevertResult> {
  const trailers = trailerLines(REVERTS_PATCH_ID_TRAILER, input.patchId, input.trailers);
  return landOnBranch<RevertResult>(input, 'revert', input.patchId, async (context) => {
    const { tip, markers: { patch, revert }, attempt } = context;
    if (revert) {
      const previousTipSha = firstParent(revert);
      return { done: { status: 'reverted', revertSha: revert.sha, revertedSha: patch?.sha ?? null, previousTipSha, reused: true, attempts: attempt } };
    }
    if (!patch) return { done: { status: 'nothing-to-revert', reason: 'no-patch-commit', patchCommitSha: null } };
    const revertSha = await commitRevert(context, patch, trailers, input);
    if (revertSha === undefined) return { done: { status: 'nothing-to-revert', reason: 'changes-already-undone', patchCommitSha: patch.sha } };
    return {
      commitSha: revertSha,
      landed: (attempts) => ({ status: 'reverted', revertSha, revertedSha: patch.sha, previousTipSha: tip.sha, reused: false, attempts }),
    };
  });
}

/** Where a change proposed on a side branch (a pull request's head) stands. */
export type BranchProposal =
  /** The commit is the head branch's tip: pushed now, or found there from an earlier attempt (`reused`). */
  | { status: 'proposed'; commitSha: string; baseSha: string; reused: boolean }
  /** The base branch already has the change (the pull request was merged, or the commit landed otherwise). */
  | { status: 'on-base'; commitSha: string }
  /** The head branch's tip is not a commit this module made for the patch: someone changed it; it is left alone. */
  | { status: 'taken-over'; tipSha: string };

/** The side branch's tip as a proposal of this module (its trailer, its committer), or undefined when absent. */
async function existingProposal(cached: CachedBranch, input: LandingInput & SideBranchInput, trailerKey: string, patchId: string): Promise<BranchProposal | undefined> {
  const tip = await cached.otherBranchTip(input.headBranch, { key: trailerKey, value: patchId });
  if (!tip) return undefined;
  const ours = tip.carriesTrailer && tip.committerEmail === (input.identity ?? DEFAULT_IDENTITY).email && tip.parentShas.length === 1;
  if (!ours) return { status: 'taken-over', tipSha: tip.sha };
  return { status: 'proposed', commitSha: tip.sha, baseSha: tip.parentShas[0] ?? '', reused: true };
}

/**
 * Commits the patch on the tip of `branch` and pushes it to `headBranch` (which must not exist), once: a head
 * branch already holding the proposal is reused, one holding anything else is reported, never overwritten.
 */
export async function proposePatch(input: DeployPatchInput & SideBranchInput): Promise<BranchProposal> {
  changedFiles(input.diff);
  const subjectProblem = commitSubjectProblem(input.subject);
  if (subjectProblem) throw new InvalidInputError(`the commit subject ${subjectProblem}`);
  const trailers = trailerLines(PATCH_ID_TRAILER, input.patchId, input.trailers);
  return landOnBranch<BranchProposal>(input, 'propose', input.patchId, async ({ cached, tip, markers: { patch, revert } }) => {
    if (revert) throw new PatchRevertedError(input.patchId, revert.sha);
    if (patch) return { done: { status: 'on-base', commitSha: patch.sha } };
    const existing = await existingProposal(cached, input, PATCH_ID_TRAILER, input.patchId);
    if (existing) return { done: existing };
    const commitSha = await commitChange(cached, input, trailers, tip);
    return { commitSha, landed: () => ({ status: 'proposed', commitSha, baseSha: tip.sha, reused: false }) };
  });
}

/** The revert of the patch proposed on `headBranch`, like proposePatch; `nothing-to-revert` when the base has no patch commit or its changes are gone. */
export async function proposeRevert(input: RevertPatchInput & SideBranchInput): Promise<BranchProposal | { status: 'nothing-to-revert' }> {
  const trailers = trailerLines(REVERTS_PATCH_ID_TRAILER, input.patchId, input.trailers);
  return landOnBranch<BranchProposal | { status: 'nothing-to-revert' }>(input, 'propose-revert', input.patchId, async (context) => {
    const { cached, tip, markers: { patch, revert } } = context;
    if (revert) return { done: { status: 'on-base', commitSha: revert.sha } };
    if (!patch) return { done: { status: 'nothing-to-revert' } };
    const existing = await existingProposal(cached, input, REVERTS_PATCH_ID_TRAILER, input.patchId);
    if (existing) return { done: existing };
    const commitSha = await commitRevert(context, patch, trailers, input);
    if (commitSha === undefined) return { done: { status: 'nothing-to-revert' } };
    return { commitSha, landed: () => ({ status: 'proposed', commitSha, baseSha: tip.sha, reused: false }) };
  });
}
