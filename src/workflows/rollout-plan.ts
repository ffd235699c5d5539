/**
 * Splits a patch's targets into cumulative waves. Pure and deterministic: runs inside workflow code.
 */

/**
 * `percents` are cumulative (e.g. 10, 50, 100). Each wave holds the targets up to ceil(n * percent / 100), the first
 * wave at least one (the canary); waves that would add nobody are dropped, and the last wave always ends with every
 * target.
 */
export function planWaves<T>(targets: readonly T[], percents: readonly number[]): T[][] {
  const waves: T[][] = [];
  let deployed = 0;
  const cumulative = [...percents, 100];
  for (const percent of cumulative) {
    const upTo = Math.min(targets.length, Math.max(deployed === 0 ? 1 : 0, Math.ceil((targets.length * percent) / 100)));
    if (upTo > deployed) {
      waves.push(targets.slice(deployed, upTo));
      deployed = upTo;
    }
  }
  return waves;
}
