/**
 * The repository view of a commit in a git checkout, read through git the way analyses read it: the CI files'
 * text (symlinks, binaries and huge files skipped) and every path, for rules that ask whether a file exists.
 * Analyses, patches generated from their findings and the regeneration of those patches all use this one reading.
 */
import { type GitOptions, readTreeAndPaths } from '../git';
import { repositoryFromFiles } from './discover';
import type { RepositoryView } from './rule';

/** What an analysis reads: the .github folder and the analyzer's own configuration file. */
const CI_FILES = ['.github/**', 'wpa.yml', 'wpa.yaml'];

/** The view of `commit` (default HEAD) in the clone `dir`. */
export async function repositoryViewAt(dir: string, commit: string | undefined, options: GitOptions = {}): Promise<{ view: RepositoryView; commitSha: string }> {
  const source = commit === undefined ? { dir } : { dir, ref: commit };
  const tree = await readTreeAndPaths(source, CI_FILES, options);
  return { view: repositoryFromFiles(tree.files, { existingPaths: tree.paths }), commitSha: tree.commitSha };
}
