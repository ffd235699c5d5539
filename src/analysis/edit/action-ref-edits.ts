/**
 * Edits of `uses:` references: a new ref after the `@`, keeping the action path as written, the value's quoting and
 * any comment after it.
 */
import { isScalar, type Scalar } from 'yaml';
import type { WorkflowFile } from '../rule';
import type { TextEdit } from './text-edits';
import { replaceScalar, type Unfixable } from './yaml-edits';

/** `owner/repo[/path]@<ref>` with the part after the last `@` replaced (added when there is none). */
export function replaceActionRef(file: WorkflowFile, uses: Scalar, ref: string): TextEdit | Unfixable {
  if (!isScalar(uses) || typeof uses.value !== 'string') return { unfixable: '`uses:` is not a plain string' };
  const value = uses.value.trim();
  const at = value.lastIndexOf('@');
  return replaceScalar(file, uses, `${at < 0 ? value : value.slice(0, at)}@${ref}`);
}
