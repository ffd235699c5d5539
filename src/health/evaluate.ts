/**
 * Decides whether a rollout wave is healthy from the samples gathered so far. Runs inside Temporal workflow
 * code, so it is deterministic and imports types only: no I/O, no clock, no randomness, and it never throws.
 */
import type { HealthSample } from './types';

export type HealthVerdict = 'healthy' | 'failing' | 'inconclusive';

export interface FailingTarget {
  target: string;
  /** The check with the longest current run of failures on this target. */
  check: string;
  consecutiveFailures: number;
  lastDetail: string;
}

export interface HealthEvaluation {
  /** True only for the verdict `healthy`: no failing target and every target has samples. */
  healthy: boolean;
  /**
   * `failing`: some check failed `failureThreshold` times in a row on some target (roll back).
   * `inconclusive`: nothing failed enough, but some target has no samples at all (no data is not health).
   */
  verdict: HealthVerdict;
  failingTargets: FailingTarget[];
  targetsWithoutSamples: string[];
  /** One line for people: what was decided and why. */
  reason: string;
}

const MAX_TARGETS_IN_REASON = 3;

/** Failures at the end of one check's samples, oldest first, with the newest failure's detail. */
function trailingFailures(samples: readonly HealthSample[]): { count: number; lastDetail: string } {
  let count = 0;
  for (let index = samples.length - 1; index >= 0 && samples[index]?.ok === false; index--) count++;
  return { count, lastDetail: samples.at(-1)?.detail ?? '' };
}

/** The check of `samples` (one target, oldest first) with the longest current run of failures. */
function worstCheck(samples: readonly HealthSample[]): { check: string; count: number; lastDetail: string } {
  const byCheck = new Map<string, HealthSample[]>();
  for (const sample of samples) {
    const list = byCheck.get(sample.check);
    if (list) list.push(sample);
    else byCheck.set(sample.check, [sample]);
  }
  let worst = { check: '', count: 0, lastDetail: '' };
  for (const [check, list] of byCheck) {
    const run = trailingFailures(list);
    if (run.count > worst.count) worst = { check, ...run };
  }
  return worst;
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, MAX_TARGETS_IN_REASON).join(', ');
  return names.length > MAX_TARGETS_IN_REASON ? `${shown} and ${names.length - MAX_TARGETS_IN_REASON} more` : shown;
}

/**
 * `samplesByTarget` holds each target's samples oldest first (all checks interleaved). A target fails when
 * one of its checks has failed `failureThreshold` times in a row, counted from the newest sample back.
 */
export function evaluateHealth(
  samplesByTarget: Readonly<Record<string, readonly HealthSample[]>>,
  failureThreshold: number,
): HealthEvaluation {
  // Bad input must not throw inside workflow code (the workflow task would retry forever): fall back to the
  // strictest threshold.
  const threshold = Number.isFinite(failureThreshold) && failureThreshold >= 1 ? Math.floor(failureThreshold) : 1;
  const targets = Object.keys(samplesByTarget).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const failingTargets: FailingTarget[] = [];
  const targetsWithoutSamples: string[] = [];
  const belowThreshold: string[] = [];

  for (const target of targets) {
    const samples = samplesByTarget[target] ?? [];
    if (samples.length === 0) {
      targetsWithoutSamples.push(target);
      continue;
    }
    const worst = worstCheck(samples);
    if (worst.count >= threshold) {
      failingTargets.push({ target, check: worst.check, consecutiveFailures: worst.count, lastDetail: worst.lastDetail });
    } else if (worst.count > 0) {
      belowThreshold.push(target);
    }
  }

  if (failingTargets.length > 0) {
    const details = failingTargets
      .slice(0, MAX_TARGETS_IN_REASON)
      .map((failing) => `${failing.target} (${failing.check} failed ${failing.consecutiveFailures}x in a row: ${failing.lastDetail})`);
    const more = failingTargets.length > MAX_TARGETS_IN_REASON ? ` and ${failingTargets.length - MAX_TARGETS_IN_REASON} more` : '';
    return {
      healthy: false,
      verdict: 'failing',
      failingTargets,
      targetsWithoutSamples,
      reason: `${failingTargets.length} of ${targets.length} targets reached ${threshold} consecutive failures: ${details.join('; ')}${more}`,
    };
  }
  if (targets.length === 0 || targetsWithoutSamples.length > 0) {
    return {
      healthy: false,
      verdict: 'inconclusive',
      failingTargets,
      targetsWithoutSamples,
      reason: targets.length === 0 ? 'no targets to evaluate' : `no health samples yet for ${listed(targetsWithoutSamples)}`,
    };
  }
  const note = belowThreshold.length > 0 ? `; recent failures below the threshold on ${listed(belowThreshold)}` : '';
  return {
    healthy: true,
    verdict: 'healthy',
    failingTargets,
    targetsWithoutSamples,
    reason: `all ${targets.length} targets healthy (threshold ${threshold} consecutive failures)${note}`,
  };
}
