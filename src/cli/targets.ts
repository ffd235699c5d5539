/**
 * What `wpa analyze` and `wpa fix` share: turning command-line PATHs into repository roots with their configuration,
 * parsed CI files and the part of them to look at.
 */
import { statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { type AnalyzerConfig, loadConfig } from '../analysis/config';
import { discoverRepository } from '../analysis/discover';
import { workflowFileKind } from '../analysis/parse';
import type { RepositoryView } from '../analysis/rule';
import { UsageError } from './common';

/** What one command-line PATH names: a repository root, and optionally the part of it to analyze. */
export interface Target {
  given: string;
  root: string;
  /** Analyze only this file, or the files under this folder (repository-relative, ending in `/`). */
  within?: string;
}

export function resolveTarget(given: string, cwd: string): Target {
  const absolute = resolve(cwd, given);
  const stats = statSync(absolute, { throwIfNoEntry: false });
  if (!stats) throw new UsageError(`${given}: no such file or directory`);
  const segments = absolute.split(sep);
  if (stats.isDirectory()) {
    // A folder inside `.github` (e.g. `.github/workflows`): analyze that part of the enclosing repository.
    const github = segments.lastIndexOf('.github');
    if (github <= 0) return { given, root: absolute };
    return { given, root: segments.slice(0, github).join(sep) || sep, within: `${segments.slice(github).join('/')}/` };
  }
  // A single file: its repository root is the ancestor from which the path reads as a workflow or action file.
  for (let dir = dirname(absolute); ; dir = dirname(dir)) {
    const path = relative(dir, absolute).split(sep).join('/');
    if (workflowFileKind(path)) return { given, root: dir, within: path };
    if (dirname(dir) === dir) throw new UsageError(`${given}: not a workflow (.github/workflows/) or action (.github/actions/) file`);
  }
}

/** The repository-relative paths a target restricts the analysis to, or undefined for the whole repository. */
function onlyPaths(target: Target, view: RepositoryView): string[] | undefined {
  const within = target.within;
  if (within === undefined) return undefined;
  return view.workflowFiles.map((file) => file.path).filter((path) => (within.endsWith('/') ? path.startsWith(within) : path === within));
}

/** Prepended to repository-relative paths in output: '' for the working directory, else the root plus `/`. */
export function pathPrefix(target: Target, cwd: string): string {
  const fromCwd = relative(cwd, target.root).split(sep).join('/');
  return fromCwd === '' ? '' : `${fromCwd}/`;
}

/** A target with what its commands read: configuration, parsed CI files, and the paths to report on. */
export interface PreparedTarget {
  target: Target;
  config: AnalyzerConfig;
  view: RepositoryView;
  only: string[] | undefined;
}

/** The targets named by `positionals` (default `.`), each with its configuration (or `explicitConfig`) and files. */
export function prepareTargets(positionals: readonly string[], cwd: string, knownRuleIds: ReadonlySet<string>, explicitConfig?: string): PreparedTarget[] {
  const targets = (positionals.length > 0 ? positionals : ['.']).map((given) => resolveTarget(given, cwd));
  return targets.map((target) => {
    const config = loadConfig(target.root, knownRuleIds, explicitConfig);
    const view = discoverRepository(target.root, config.firstPartyOwners ? { firstPartyOwners: config.firstPartyOwners } : {});
    return { target, config, view, only: onlyPaths(target, view) };
  });
}
