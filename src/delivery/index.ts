/**
 * How a patch reaches a target and leaves it again: pushed to the target branch (`push`, the default), or through
 * pull requests on the target's forge (`pull-request`, pull-request.ts). The deploy and revert activities ask
 * `deliver` and `undo`; which way is the target's business.
 */
import type { PullRequestDelivery, PullRequestLink, Target } from '../domain/types';
import type { Forge, ForgeDirectory } from '../forges';
import { deployPatch, type GitOptions, type PushAttempt, revertPatch } from '../git';
import { DeliveryConfigError } from './errors';
import { deliverByPullRequest, undoByPullRequest } from './pull-request';

export interface DeliveryContext {
  target: Target;
  patchId: string;
  workRoot: string;
  git: Pick<GitOptions, 'repoUrlPolicy' | 'identity'>;
  forges: ForgeDirectory;
  pollIntervalMs: number;
  signal: AbortSignal;
  progress: (step: string) => void;
}

export interface DeliverInput extends DeliveryContext {
  diff: string;
  /** The commit's subject (and the pull request's title). */
  title: string;
  approvedBy: string[];
  /** A last check before anything is pushed (the revert marker), which may refuse by throwing. */
  beforePush: (attempt: PushAttempt) => Promise<void>;
  /** The pull request's description, made only when a pull request is opened. */
  pullRequestBody: () => Promise<string>;
}

export type Delivered =
  | { kind: 'deployed'; commitSha: string; previousCommit: string; reused: boolean; pullRequest?: PullRequestLink; checks?: string }
  | { kind: 'declined'; reason: string; pullRequest?: PullRequestLink };

export interface UndoInput extends DeliveryContext {
  title: string;
  reason: string;
  mergeTimeoutMs: number;
}

export interface Undone {
  status: 'reverted' | 'nothing-to-revert';
  revertCommit: string | null;
  pullRequest?: PullRequestLink;
}

/** The target's pull-request settings with its forge open and git authenticated to it; undefined for push targets. */
async function pullRequestSetup(context: DeliveryContext): Promise<{ delivery: PullRequestDelivery; forge: Forge; config: Record<string, string> } | undefined> {
  const { target } = context;
  if (target.delivery?.mode !== 'pull-request') return undefined;
  if (!target.forge) throw new DeliveryConfigError(`target ${target.name} is delivered by pull request but names no forge`);
  const forge = context.forges.open(target.forge, target.repoUrl);
  const config = context.forges.gitConfig(target.forge, target.repoUrl, await forge.gitCredentials());
  return { delivery: target.delivery, forge, config };
}

export async function deliver(input: DeliverInput): Promise<Delivered> {
  const { target } = input;
  const git = {
    repoUrl: target.repoUrl,
    branch: target.branch,
    workRoot: input.workRoot,
    diff: input.diff,
    patchId: input.patchId,
    subject: input.title,
    trailers: { 'Approved-by': input.approvedBy },
    signal: input.signal,
    beforePush: input.beforePush,
    ...input.git,
  };
  const pullRequests = await pullRequestSetup(input);
  if (!pullRequests) {
    const deployed = await deployPatch(git);
    return { kind: 'deployed', commitSha: deployed.commitSha, previousCommit: deployed.previousTipSha, reused: deployed.reused };
  }
  const outcome = await deliverByPullRequest({
    forge: pullRequests.forge,
    git: { ...git, config: pullRequests.config },
    delivery: pullRequests.delivery,
    body: await input.pullRequestBody(),
    pollIntervalMs: input.pollIntervalMs,
    signal: input.signal,
    progress: input.progress,
  });
  if (outcome.kind === 'declined') return outcome;
  const { kind: _kind, ...merged } = outcome;
  return { kind: 'deployed', ...merged };
}

export async function undo(input: UndoInput): Promise<Undone> {
  const { target } = input;
  const git = { repoUrl: target.repoUrl, branch: target.branch, workRoot: input.workRoot, patchId: input.patchId, signal: input.signal, ...input.git };
  const pullRequests = await pullRequestSetup(input);
  if (!pullRequests) {
    const reverted = await revertPatch(git);
    return { status: reverted.status, revertCommit: reverted.status === 'reverted' ? reverted.revertSha : null };
  }
  const outcome = await undoByPullRequest({
    forge: pullRequests.forge,
    git: { ...git, config: pullRequests.config },
    delivery: pullRequests.delivery,
    title: input.title,
    reason: input.reason,
    mergeTimeoutMs: input.mergeTimeoutMs,
    pollIntervalMs: input.pollIntervalMs,
    signal: input.signal,
    progress: input.progress,
  });
  if (outcome.status === 'reverted') return { status: 'reverted', revertCommit: outcome.revertCommit, ...(outcome.pullRequest ? { pullRequest: outcome.pullRequest } : {}) };
  return { status: 'nothing-to-revert', revertCommit: null, ...(outcome.closed ? { pullRequest: outcome.closed } : {}) };
}
