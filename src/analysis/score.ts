/**
 * Health scores (0-100) for files and repositories, derived from finding severities only. The formula is
 * documented in docs/scoring.md; it is monotone: removing any finding never lowers a score.
 */
import type { Severity } from '../domain/types';

/** Fraction of the remaining score one finding of each severity takes away. Info findings cost nothing. */
export const SEVERITY_PENALTY: Readonly<Record<Severity, number>> = {
  critical: 0.5,
  high: 0.25,
  medium: 0.1,
  low: 0.03,
  info: 0,
};

/** Unrounded file score: 100 times the product of (1 - penalty) over the file's findings. */
function rawFileScore(severities: readonly Severity[]): number {
  let score = 100;
  for (const severity of severities) score *= 1 - SEVERITY_PENALTY[severity];
  return score;
}

/** Score of one file from the severities of its findings. */
export function fileScore(severities: readonly Severity[]): number {
  return Math.round(rawFileScore(severities));
}

/**
 * Score of a repository from its files' findings (one severity list per analyzed file, clean files included):
 * half the mean file score plus half the worst file score, so one bad file is visible in a large clean repository.
 */
export function repositoryScore(filesSeverities: readonly (readonly Severity[])[]): number {
  if (filesSeverities.length === 0) return 100;
  const scores = filesSeverities.map(rawFileScore);
  const mean = scores.reduce((sum, score) => sum + score, 0) / scores.length;
  return Math.round(0.5 * mean + 0.5 * Math.min(...scores));
}
