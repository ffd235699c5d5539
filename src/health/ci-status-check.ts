/**
 * The `ci-status` health check: the forge's own CI verdict on the deployed commit, compared with the commit before
 * the patch (its first parent), so a check that was already red does not fail the patch and the sample says so.
 */
import { waitForChecks } from '../delivery/checks';
import { type Forge, ForgeError } from '../forges/forge';
import type { CiStatusCheck } from './schemas';
import type { HealthSample } from './types';

export function ciStatusCheckLabel(check: Pick<CiStatusCheck, 'checks'>): string {
  return `ci-status ${check.checks === 'all-required' ? 'all required checks' : check.checks.join(', ')}`;
}

export interface CiStatusContext {
  forge: Forge;
  /** The deployed commit. */
  commit: string;
  /** The target branch (what `all-required` reads the protection of). */
  branch: string;
  pollIntervalMs: number;
  signal: AbortSignal;
  beforePoll?: () => Promise<void>;
}

/** One sample; a forge that cannot be asked (credential, permissions) gives an error sample, not a failure. */
export async function runCiStatusCheck(check: CiStatusCheck, context: CiStatusContext): Promise<HealthSample> {
  const at = new Date();
  const sample = (ok: boolean, detail: string, error = false): HealthSample => ({
    ok,
    checkType: 'ci-status',
    check: ciStatusCheckLabel(check),
    detail,
    latencyMs: Date.now() - at.getTime(),
    ...(error ? { error: true } : {}),
    at: at.toISOString(),
  });
  try {
    const [before] = await context.forge.commitParents(context.commit);
    const outcome = await waitForChecks({
      forge: context.forge,
      commit: context.commit,
      before,
      branch: context.branch,
      wanted: check.checks,
      timeoutMs: check.timeoutSeconds * 1000,
      pollIntervalMs: context.pollIntervalMs,
      signal: context.signal,
      ...(context.beforePoll ? { beforePoll: context.beforePoll } : {}),
    });
    if (outcome.timedOut) return sample(false, `still pending after ${check.timeoutSeconds} s: ${outcome.summary}`);
    return sample(outcome.state === 'success', outcome.summary);
  } catch (error) {
    if (!(error instanceof ForgeError)) throw error;
    return sample(false, `the forge could not be asked: ${error.message}`, true);
  }
}
