/**
 * Delivery by pull request: per target, the patch commit goes to the branch `wpa/patch-<id>`, a pull request
 * (labelled, its body the patch report) waits for the required checks on its head commit, and is merged with the
 * target's method; undoing it closes a pull request not merged yet, or proposes the revert on `wpa/revert-<id>` and
 * merges that (or pushes the revert directly when the target says so).
 *
 * Idempotent under retries and crashes: the branches are found by their trailers (src/git), the pull requests by
 * their head branch, a merge by the pull request's state, so nothing is created twice. A pull request a person
 * closed, or whose branch a person pushed to, is reported as declined and never overwritten.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { PullRequestDelivery, PullRequestLink } from '../domain/types';
import { type Forge, ForgeError, type MergeMethod, type PullRequest } from '../forges/forge';
import { type DeployPatchInput, PATCH_ID_TRAILER, proposePatch, proposeRevert, REVERTS_PATCH_ID_TRAILER, revertPatch, type RevertPatchInput, trailerBlock } from '../git';
import { type ChecksVerdict, waitForChecks } from './checks';
import { ChecksFailedError, ChecksTimedOutError, MergeRefusedError, RevertBranchTakenError } from './errors';

export function patchBranch(patchId: string): string {
  return `wpa/patch-${patchId}`;
}

export function revertBranch(patchId: string): string {
  return `wpa/revert-${patchId}`;
}

interface Pacing {
  pollIntervalMs: number;
  signal: AbortSignal;
  progress: (step: string) => void;
}

export interface PullRequestDeployInput extends Pacing {
  forge: Forge;
  /** The commit to propose (on the target branch's tip) and how git reaches the repository. */
  git: DeployPatchInput;
  delivery: PullRequestDelivery;
  /** The pull request's description (Markdown). */
  body: string;
}

export type PullRequestDeployOutcome =
  | {
      kind: 'merged';
      commitSha: string;
      /** The target branch's tip before the merge. */
      previousCommit: string;
      reused: boolean;
      /** Absent when the commit reached the branch without the pull request (found there after a crash). */
      pullRequest?: PullRequestLink;
      /** What the checks said before the merge (empty when the merge was found done). */
      checks: string;
    }
  | { kind: 'declined'; reason: string; pullRequest?: PullRequestLink };

/** Thrown inside the waits when a person closed the pull request or pushed to its branch. */
class Declined extends Error {}

function linkOf(pr: PullRequest): PullRequestLink {
  return { number: pr.number, url: pr.url };
}

function closedReason(pr: PullRequest): string {
  return `pull request #${pr.number} was closed without merging${pr.closedBy ? ` by ${pr.closedBy}` : ''}; the patch is not delivered to this target`;
}

function changedReason(pr: PullRequest, expected: string): string {
  return `pull request #${pr.number}'s branch ${pr.headBranch} was changed by someone else (head ${pr.headSha.slice(0, 12)}, the agent's commit ${expected.slice(0, 12)}); it is left as it is`;
}

/** The merge commit's title and message: squash commits carry the patch's trailers, merge commits must not (see src/git/deploy.ts). */
function mergeText(method: MergeMethod, pr: PullRequest, subject: string, trailers: readonly string[]): { title: string; message: string } {
  if (method === 'squash') return { title: subject, message: trailers.join('\n') };
  return { title: `Merge pull request #${pr.number} from ${pr.headBranch}`, message: subject };
}

/** The merged pull request as an outcome; the previous tip is the merge commit's first parent. */
async function mergedOutcome(forge: Forge, pr: PullRequest, reused: boolean, checks: string): Promise<PullRequestDeployOutcome> {
  const commitSha = pr.mergeCommitSha;
  if (commitSha === null) throw new MergeRefusedError(`pull request #${pr.number} is merged but the forge names no merge commit`);
  const [previousCommit = ''] = await forge.commitParents(commitSha);
  return { kind: 'merged', commitSha, previousCommit, reused, pullRequest: linkOf(pr), checks };
}

/** The pull request from `head`, opened when there is none (a creation that raced a crash is found again). */
async function openPullRequest(forge: Forge, head: string, base: string, title: string, body: string): Promise<PullRequest> {
  const existing = await forge.findPullRequest(head, base);
  if (existing) return existing;
  try {
    return await forge.createPullRequest({ head, base, title, body });
  } catch (error) {
    const found = await forge.findPullRequest(head, base);
    if (found) return found;
    throw error;
  }
}

/**
 * Merges, retrying while the forge refuses (checks it still waits for, a mergeability computation) until
 * `deadline`; a pull request merged meanwhile (by an earlier attempt) counts.
 */
async function mergeUntil(forge: Forge, pr: PullRequest, method: MergeMethod, text: { title: string; message: string }, deadline: number, pacing: Pacing): Promise<PullRequest> {
  for (let lastRefusal = '';;) {
    pacing.signal.throwIfAborted();
    const current = await forge.getPullRequest(pr.number);
    if (current.state === 'merged') return current;
    if (current.state === 'closed') throw new Declined(closedReason(current));
    if (current.headSha !== pr.headSha) throw new Declined(changedReason(current, pr.headSha));
    pacing.progress(`merging pull request #${pr.number} (${method})`);
    const outcome = await forge.merge(pr.number, { method, ...text, headSha: pr.headSha });
    if (outcome.merged) return forge.getPullRequest(pr.number);
    lastRefusal = outcome.reason;
    if (Date.now() >= deadline) throw new MergeRefusedError(`the forge refused to merge pull request #${pr.number}: ${lastRefusal}`);
    await delay(pacing.pollIntervalMs, undefined, { signal: pacing.signal });
  }
}

/** Delivers the patch to one target by pull request; see the module comment. */
export async function deliverByPullRequest(input: PullRequestDeployInput): Promise<PullRequestDeployOutcome> {
  const { forge, git, delivery } = input;
  const head = patchBranch(git.patchId);
  try {
    const earlier = await forge.findPullRequest(head, git.branch);
    if (earlier?.state === 'merged') return await mergedOutcome(forge, earlier, true, '');
    if (earlier?.state === 'closed') return { kind: 'declined', reason: closedReason(earlier), pullRequest: linkOf(earlier) };

    input.progress(`pushing ${head}`);
    const proposal = await proposePatch({ ...git, headBranch: head });
    if (proposal.status === 'taken-over') {
      return { kind: 'declined', reason: `the branch ${head} has commits the agent did not make (tip ${proposal.tipSha.slice(0, 12)}); it is left as it is`, ...(earlier ? { pullRequest: linkOf(earlier) } : {}) };
    }
    if (proposal.status === 'on-base') {
      // The commit reached the branch without this pull request being merged (found again after a crash, or pushed).
      const [previousCommit = ''] = await forge.commitParents(proposal.commitSha);
      return { kind: 'merged', commitSha: proposal.commitSha, previousCommit, reused: true, ...(earlier ? { pullRequest: linkOf(earlier) } : {}), checks: '' };
    }

    input.progress(`opening the pull request from ${head}`);
    const pr = await openPullRequest(forge, head, git.branch, git.subject, input.body);
    if (pr.state === 'merged') return await mergedOutcome(forge, pr, true, '');
    if (pr.state === 'closed') return { kind: 'declined', reason: closedReason(pr), pullRequest: linkOf(pr) };
    if (pr.headSha !== proposal.commitSha) return { kind: 'declined', reason: changedReason(pr, proposal.commitSha), pullRequest: linkOf(pr) };
    const missingLabels = delivery.labels.filter((label) => !pr.labels.includes(label));
    if (missingLabels.length > 0) await forge.addLabels(pr.number, missingLabels);

    const deadline = Date.now() + delivery.checksTimeoutSeconds * 1000;
    const verdict = await waitForChecks({
      forge,
      commit: pr.headSha,
      before: proposal.baseSha,
      branch: git.branch,
      wanted: delivery.requiredChecks,
      timeoutMs: delivery.checksTimeoutSeconds * 1000,
      pollIntervalMs: input.pollIntervalMs,
      signal: input.signal,
      beforePoll: async () => {
        input.progress(`waiting for the checks of pull request #${pr.number}`);
        const current = await forge.getPullRequest(pr.number);
        if (current.state === 'closed') throw new Declined(closedReason(current));
        if (current.state === 'open' && current.headSha !== pr.headSha) throw new Declined(changedReason(current, pr.headSha));
      },
    });
    assertChecksPassed(pr, verdict, delivery.checksTimeoutSeconds);
    const review = delivery.approve ? await approveAsBot(forge, pr, git) : '';
    const merged = await mergeUntil(forge, pr, delivery.mergeMethod, mergeText(delivery.mergeMethod, pr, git.subject, trailerBlock(PATCH_ID_TRAILER, git.patchId, git.trailers)), Math.max(deadline, Date.now() + 60_000), input);
    return await mergedOutcome(forge, merged, false, [verdict.summary, review].filter((part) => part !== '').join('; '));
  } catch (error) {
    if (error instanceof Declined) {
      const pr = await forge.findPullRequest(head, git.branch);
      return { kind: 'declined', reason: error.message, ...(pr ? { pullRequest: linkOf(pr) } : {}) };
    }
    throw error;
  }
}

/**
 * The bot's approving review. Forges refuse a review of one's own pull request; then the merge decides (branch
 * protection may not need the review), and the note says the review was refused.
 */
async function approveAsBot(forge: Forge, pr: PullRequest, git: DeployPatchInput): Promise<string> {
  try {
    await forge.approve(pr.number, `Approved by the Guardians of patch ${git.patchId}: ${[git.trailers?.['Approved-by'] ?? []].flat().join(', ')}`);
    return 'approved by the bot';
  } catch (error) {
    if (!(error instanceof ForgeError) || error.retryable) throw error;
    return `the bot's approving review was refused: ${error.message}`;
  }
}

function assertChecksPassed(pr: PullRequest, verdict: ChecksVerdict & { timedOut: boolean }, timeoutSeconds: number): void {
  if (verdict.state === 'failure') throw new ChecksFailedError(`the checks failed on pull request #${pr.number} (${pr.url}): ${verdict.summary}`);
  if (verdict.timedOut) throw new ChecksTimedOutError(`the checks of pull request #${pr.number} (${pr.url}) were not done after ${timeoutSeconds} s: ${verdict.summary}`);
}

export interface PullRequestUndoInput extends Pacing {
  forge: Forge;
  git: RevertPatchInput;
  delivery: PullRequestDelivery;
  /** The patch's title, for the revert pull request. */
  title: string;
  /** Why the patch is rolled back, said in the comment and the revert pull request. */
  reason: string;
  /** How long a revert pull request's merge may be refused (checks the forge waits for) before the revert fails. */
  mergeTimeoutMs: number;
}

export type PullRequestUndoOutcome =
  | { status: 'reverted'; revertCommit: string; pullRequest?: PullRequestLink }
  | { status: 'nothing-to-revert'; closed?: PullRequestLink };

/** Undoes the patch on one target; see the module comment. */
export async function undoByPullRequest(input: PullRequestUndoInput): Promise<PullRequestUndoOutcome> {
  const { forge, git, delivery } = input;
  const proposed = await forge.findPullRequest(patchBranch(git.patchId), git.branch);
  if (proposed?.state === 'open') {
    input.progress(`closing pull request #${proposed.number}`);
    await forge.close(proposed.number, `Closed by workflow-patch-agent: the patch is rolled back (${input.reason}).`);
    return { status: 'nothing-to-revert', closed: linkOf(proposed) };
  }
  if (delivery.revert === 'push') {
    const reverted = await revertPatch(git);
    return reverted.status === 'reverted' ? { status: 'reverted', revertCommit: reverted.revertSha } : { status: 'nothing-to-revert' };
  }
  const head = revertBranch(git.patchId);
  input.progress(`pushing ${head}`);
  const proposal = await proposeRevert({ ...git, headBranch: head });
  if (proposal.status === 'nothing-to-revert') return { status: 'nothing-to-revert' };
  if (proposal.status === 'taken-over') throw new RevertBranchTakenError(`the branch ${head} has commits the agent did not make (tip ${proposal.tipSha.slice(0, 12)}): revert the patch by hand`);
  if (proposal.status === 'on-base') return { status: 'reverted', revertCommit: proposal.commitSha };
  const body = `Rolls back ${proposed ? `#${proposed.number}` : `patch ${git.patchId}`}: ${input.reason}`;
  const pr = await openPullRequest(forge, head, git.branch, `Revert "${input.title}"`, body);
  const text = mergeText(delivery.mergeMethod, pr, `Revert "${input.title}"`, trailerBlock(REVERTS_PATCH_ID_TRAILER, git.patchId, git.trailers));
  let reverted: PullRequest;
  try {
    reverted = pr.state === 'merged' ? pr : await mergeUntil(forge, pr, delivery.mergeMethod, text, Date.now() + input.mergeTimeoutMs, input);
  } catch (error) {
    // A person closing the revert pull request or pushing to it stops the revert: it needs them now.
    if (error instanceof Declined) throw new RevertBranchTakenError(`${error.message}: revert the patch by hand`);
    throw error;
  }
  if (reverted.mergeCommitSha === null) throw new MergeRefusedError(`revert pull request #${pr.number} is merged but the forge names no merge commit`);
  return { status: 'reverted', revertCommit: reverted.mergeCommitSha, pullRequest: linkOf(pr) };
}
