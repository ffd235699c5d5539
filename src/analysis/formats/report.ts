/**
 * What the output formats render: the analysis result of one or more repositories as named on the command line.
 */
import type { AnalysisResult } from '../engine';
import type { Rule } from '../rule';

export interface RepositoryReport {
  /** The repository root as the user named it (e.g. `.` or `../other-repo`). */
  root: string;
  /** Prepended to repository-relative paths in output: '' for the working directory, else the root plus `/`. */
  pathPrefix: string;
  result: AnalysisResult;
  /** File text by repository-relative path, for source excerpts. */
  sources: ReadonlyMap<string, string>;
}

export interface AnalysisReport {
  tool: { name: string; version: string };
  /** The rules that ran, for rule metadata in SARIF. */
  rules: readonly Rule[];
  repositories: readonly RepositoryReport[];
}

/** The path to show for a file of a repository. */
export function displayPath(repository: RepositoryReport, path: string): string {
  return `${repository.pathPrefix}${path}`;
}
