/**
 * The pre-approval safety verdict on a patch: semantic comparison of every CI file it changes plus a scan of
 * its added lines for credential literals. Strict by design: any violation blocks approval.
 */
import { workflowFileKind } from '../analysis/parse';
import { compareCiWorkflows } from './compare-ci-workflows';
import { scanAddedLinesForSecrets } from './scan-diff-secrets';
import type { NeutralChange, PatchViolation } from './types';

export interface PatchedFile {
  /** Repository-relative path, forward slashes. */
  path: string;
  /** Content before the patch; null when the patch creates the file. */
  before: string | null;
  /** Content after the patch; null when the patch deletes the file. */
  after: string | null;
}

export interface SafetyReport {
  ok: boolean;
  violations: PatchViolation[];
  neutralChanges: NeutralChange[];
}

/**
 * Checks a patch given as the files it changes and its unified diff. Files that are neither workflows nor
 * actions are not compared (only their added lines are scanned), and deleting one is a neutral change.
 */
export function safetyReport(files: ReadonlyArray<PatchedFile>, diff: string): SafetyReport {
  const violations: PatchViolation[] = [];
  const neutralChanges: NeutralChange[] = [];
  for (const file of files) {
    if (workflowFileKind(file.path) === undefined) {
      if (file.after === null && file.before !== null) {
        neutralChanges.push({ kind: 'other-file-deleted', message: 'a file that is not a CI workflow is deleted', path: file.path });
      }
      continue;
    }
    const comparison = compareCiWorkflows(file.before, file.after, file.path);
    violations.push(...comparison.violations);
    neutralChanges.push(...comparison.neutralChanges);
  }
  try {
    for (const secret of scanAddedLinesForSecrets(diff)) {
      violations.push({
        kind: 'secret-literal-added',
        message: `line ${secret.line} adds a ${secret.description} (${secret.masked}); reference a secret (\${{ secrets.NAME }}) instead`,
        path: secret.path,
      });
    }
  } catch (error) {
    violations.push({
      kind: 'diff-unreadable',
      message: `the diff could not be parsed, so its added lines were not scanned for secrets: ${error instanceof Error ? error.message : String(error)}`,
      path: '',
    });
  }
  return { ok: violations.length === 0, violations, neutralChanges };
}
