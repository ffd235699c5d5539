/**
 * Running counts of consecutive outcomes per target and check, from which a rollout decides: a check that failed
 * `failureThreshold` times in a row rolls the patch back, and so does one that could not run `errorThreshold`
 * times in a row (Argo Rollouts' failure limit and consecutive error limit). Only the counts are kept, so the
 * state a rollout carries stays the same size however long it is watched. Runs inside workflow code:
 * deterministic, types only, never throws.
 */
import type { HealthSample } from './types';

export interface CheckStreak {
  /** Consecutive samples that ran and failed; reset by a pass. */
  failures: number;
  /** Consecutive samples that could not be taken (worker, configuration, sandbox); reset by any sample that ran. */
  errors: number;
  lastDetail: string;
}

/** target name -> check label -> streak. */
export type HealthStreaks = Record<string, Record<string, CheckStreak>>;

export interface HealthLimits {
  failureThreshold: number;
  errorThreshold: number;
}

export interface StreakVerdict {
  failing: boolean;
  /** One line for people: what was decided and why. */
  reason: string;
}

const MAX_TARGETS_IN_REASON = 3;

/** Whether a sample could not be taken at all (as opposed to a check that ran and failed). */
export function isErrorSample(sample: HealthSample): boolean {
  return sample.error === true;
}

/** `streaks` with one round of one target's samples counted in (a new object; the input is not changed). */
export function countRound(streaks: HealthStreaks, target: string, samples: readonly HealthSample[]): HealthStreaks {
  const checks = { ...(streaks[target] ?? {}) };
  for (const sample of samples) {
    const previous = checks[sample.check] ?? { failures: 0, errors: 0, lastDetail: '' };
    if (isErrorSample(sample)) checks[sample.check] = { failures: previous.failures, errors: previous.errors + 1, lastDetail: sample.detail };
    else if (sample.ok) checks[sample.check] = { failures: 0, errors: 0, lastDetail: sample.detail };
    else checks[sample.check] = { failures: previous.failures + 1, errors: 0, lastDetail: sample.detail };
  }
  return { ...streaks, [target]: checks };
}

function limit(value: number): number {
  // Bad input must not throw inside workflow code: fall back to the strictest limit.
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : 1;
}

/** Whether any check reached a limit, and the first few that did, named. */
export function judgeStreaks(streaks: HealthStreaks, limits: HealthLimits): StreakVerdict {
  const failureLimit = limit(limits.failureThreshold);
  const errorLimit = limit(limits.errorThreshold);
  const reasons: string[] = [];
  const targets = Object.keys(streaks).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const target of targets) {
    for (const [check, streak] of Object.entries(streaks[target] ?? {})) {
      if (streak.failures >= failureLimit) reasons.push(`${target} (${check} failed ${streak.failures}x in a row: ${streak.lastDetail})`);
      else if (streak.errors >= errorLimit) reasons.push(`${target} (${check} could not run ${streak.errors}x in a row: ${streak.lastDetail})`);
    }
  }
  if (reasons.length === 0) {
    return { failing: false, reason: `all ${targets.length} targets within the limits (${failureLimit} consecutive failures, ${errorLimit} consecutive errors)` };
  }
  const more = reasons.length > MAX_TARGETS_IN_REASON ? ` and ${reasons.length - MAX_TARGETS_IN_REASON} more` : '';
  return { failing: true, reason: `${reasons.slice(0, MAX_TARGETS_IN_REASON).join('; ')}${more}` };
}
