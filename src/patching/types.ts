/**
 * Results of the pre-approval safety checks on a patch. A violation blocks approval; a neutral change is shown
 * to the reviewer but does not block.
 */

export const VIOLATION_KINDS = [
  /** A workflow or action file is deleted (or renamed, which reads as a deletion). */
  'file-deleted',
  /** The patched file is not valid YAML, so GitHub would not run it. */
  'invalid-yaml',
  'job-removed',
  'step-removed',
  /** A job or step that used to run now has `if: false`. */
  'job-disabled',
  'step-disabled',
  'trigger-removed',
  'permissions-widened',
  'pull-request-target-added',
  'secrets-inherit-added',
  /** An added line of the diff holds a credential literal. */
  'secret-literal-added',
  /** The diff could not be read, so added lines could not be scanned. */
  'diff-unreadable',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];

export const NEUTRAL_CHANGE_KINDS = [
  'file-added',
  /** A non-CI file deleted: reported, not judged. */
  'other-file-deleted',
  /** The file did not parse before the patch: it was compared as if it were new. */
  'before-invalid-yaml',
  'job-added',
  'job-changed',
  'step-added',
  'step-changed',
  'steps-reordered',
  'trigger-added',
  'trigger-changed',
  'permissions-narrowed',
  'workflow-changed',
] as const;
export type NeutralChangeKind = (typeof NEUTRAL_CHANGE_KINDS)[number];

export interface PatchViolation {
  kind: ViolationKind;
  message: string;
  /** Repository-relative path of the file. */
  path: string;
  /** Where in the file, as a YAML path (`jobs.build.steps[2]`), when the violation is about one place. */
  location?: string;
}

export interface NeutralChange {
  kind: NeutralChangeKind;
  message: string;
  path: string;
  location?: string;
}

export interface CiWorkflowComparison {
  violations: PatchViolation[];
  neutralChanges: NeutralChange[];
}
