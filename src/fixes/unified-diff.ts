/** The unified diff of fixed files, in the form `git diff` writes and `git apply` reads from the repository root. */
import { createTwoFilesPatch } from 'diff';

export interface FileChange {
  /** Repository-relative, forward slashes. */
  path: string;
  before: string;
  after: string;
}

/** One `diff --git` section per changed file, paths prefixed `a/` and `b/`; '' when nothing changed. */
export function unifiedDiff(changes: readonly FileChange[]): string {
  return changes
    .filter(({ before, after }) => before !== after)
    .map(({ path, before, after }) => {
      const patch = createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, { context: 3 });
      // jsdiff starts with a line of `=` that git does not write.
      return `diff --git a/${path} b/${path}\n${patch.slice(patch.indexOf('--- '))}`;
    })
    .join('');
}
