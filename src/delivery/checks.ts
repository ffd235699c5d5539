/**
 * Judging a commit's CI results on the forge: the wanted checks (named, or every check branch protection
 * requires, or every check reported) against the same checks on the commit before the patch. A check that already
 * failed before the patch does not block it, and the verdict says so; a check not reported yet is pending.
 */
import { setTimeout as delay } from 'node:timers/promises';
import picomatch from 'picomatch';
import { type CheckState, type CommitCheck, type Forge, ForgeError } from '../forges/forge';

/** Named checks (status contexts or check-run names), or `all-required`. */
export type WantedChecks = readonly string[] | 'all-required';

export interface ChecksVerdict {
  state: CheckState;
  passed: string[];
  /** Failing now and not before the patch: these block. */
  failing: string[];
  /** Failing now and on the commit before the patch: reported, not blocking. */
  alreadyFailing: string[];
  /** Not finished, or not reported at all yet. */
  pending: string[];
  /** One line for people. */
  summary: string;
}

/**
 * The names to wait for: the given ones; for `all-required`, those branch protection requires, else (nothing
 * required, or the protection cannot be read) every check reported on the commit. Gitea's required contexts are
 * glob patterns (`ci/*`; `*` when every status must pass): each stands for the reported checks it matches, or
 * for itself, still pending, while none does.
 */
export function wantedNames(wanted: WantedChecks, required: readonly string[] | undefined, reported: readonly CommitCheck[]): string[] {
  if (wanted !== 'all-required') return [...wanted];
  const reportedNames = [...new Set(reported.map((check) => check.name))].sort();
  if (required === undefined || required.length === 0) return reportedNames;
  const names = required.flatMap((entry) => {
    if (!/[*?[]/.test(entry)) return [entry];
    // bash: a single `*` also crosses `/`, as Gitea's globs do.
    const matcher = picomatch(entry, { bash: true, dot: true });
    const matches = reportedNames.filter((name) => matcher(name));
    return matches.length > 0 ? matches : [entry];
  });
  return [...new Set(names)];
}

function stateOf(name: string, checks: readonly CommitCheck[]): CheckState | undefined {
  const matching = checks.filter((check) => check.name === name);
  if (matching.length === 0) return undefined;
  // A status and a check run of the same name: any failure fails, any pending waits.
  if (matching.some((check) => check.state === 'failure')) return 'failure';
  return matching.some((check) => check.state === 'pending') ? 'pending' : 'success';
}

function list(names: readonly string[]): string {
  return names.join(', ');
}

/**
 * The verdict on `current` for `names`. With no names (`all-required` and nothing reported yet) the verdict is
 * pending: CI has not reported anything, which is not a success.
 */
export function judgeChecks(names: readonly string[], current: readonly CommitCheck[], before: readonly CommitCheck[]): ChecksVerdict {
  const verdict: ChecksVerdict = { state: 'success', passed: [], failing: [], alreadyFailing: [], pending: [], summary: '' };
  for (const name of names) {
    const state = stateOf(name, current);
    if (state === 'success') verdict.passed.push(name);
    else if (state === 'failure') (stateOf(name, before) === 'failure' ? verdict.alreadyFailing : verdict.failing).push(name);
    else verdict.pending.push(name);
  }
  const parts: string[] = [];
  if (verdict.failing.length > 0) parts.push(`failed: ${list(verdict.failing)}`);
  if (verdict.pending.length > 0) parts.push(`pending: ${list(verdict.pending)}`);
  if (verdict.passed.length > 0) parts.push(`passed: ${list(verdict.passed)}`);
  if (verdict.alreadyFailing.length > 0) parts.push(`already failing before the patch, not blocking: ${list(verdict.alreadyFailing)}`);
  if (names.length === 0) {
    verdict.state = 'pending';
    verdict.summary = 'no checks reported yet';
    return verdict;
  }
  verdict.state = verdict.failing.length > 0 ? 'failure' : verdict.pending.length > 0 ? 'pending' : 'success';
  verdict.summary = parts.join('; ');
  return verdict;
}

export interface WaitForChecksInput {
  forge: Forge;
  /** The commit whose checks are waited for. */
  commit: string;
  /** The commit before the patch, whose failures do not block; undefined: none known. */
  before: string | undefined;
  /** The branch whose protection says what `all-required` means. */
  branch: string;
  wanted: WantedChecks;
  timeoutMs: number;
  pollIntervalMs: number;
  signal: AbortSignal;
  /** Called before every poll (heartbeats; a pull request closed meanwhile can end the wait by throwing). */
  beforePoll?: () => Promise<void>;
}

export interface ChecksOutcome extends ChecksVerdict {
  /** Pending when the time ran out. */
  timedOut: boolean;
  waitedMs: number;
}

/**
 * Polls the commit's checks until they are all decided or `timeoutMs` passes. A forge error the same call may
 * survive (network, 5xx) is polled through; others are thrown.
 */
export async function waitForChecks(input: WaitForChecksInput): Promise<ChecksOutcome> {
  const started = Date.now();
  const before = input.before === undefined ? [] : await input.forge.commitChecks(input.before);
  const required = input.wanted === 'all-required' ? await input.forge.requiredChecks(input.branch) : undefined;
  let verdict: ChecksVerdict | undefined;
  let lastError: ForgeError | undefined;
  for (;;) {
    input.signal.throwIfAborted();
    await input.beforePoll?.();
    try {
      const current = await input.forge.commitChecks(input.commit);
      verdict = judgeChecks(wantedNames(input.wanted, required, current), current, before);
      lastError = undefined;
      if (verdict.state !== 'pending') return { ...verdict, timedOut: false, waitedMs: Date.now() - started };
    } catch (error) {
      if (!(error instanceof ForgeError) || !error.retryable) throw error;
      lastError = error;
    }
    const waitedMs = Date.now() - started;
    if (waitedMs >= input.timeoutMs) {
      if (verdict === undefined) throw lastError ?? new ForgeError('the checks could not be read', true);
      return { ...verdict, timedOut: true, waitedMs };
    }
    await delay(Math.min(input.pollIntervalMs, input.timeoutMs - waitedMs), undefined, { signal: input.signal });
  }
}
