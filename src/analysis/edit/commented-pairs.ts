/**
 * Inserting a nested map whose entries carry a trailing `# why` comment (e.g. a `permissions:` block that says which
 * step needs each scope). Built on insertPair, so placement, indentation, line endings and blank lines follow it.
 */
import type { YAMLMap } from 'yaml';
import type { WorkflowFile } from '../rule';
import { detectNewline } from './layout';
import type { TextEdit } from './text-edits';
import { insertPair, type KeyPlacement, renderScalar } from './yaml-edits';

export interface CommentedEntry {
  key: string;
  value: string | number | boolean;
  /** One line of text, without the `#`. */
  comment: string;
}

/** A comment cannot span lines; anything after a line break would become YAML. */
function oneLine(comment: string): string {
  return comment.replace(/[\r\n]+/g, ' ').trim();
}

/**
 * Inserts `key:` with a block map of `entries` into `map` (see insertPair for `placement`), each entry's line ending
 * in `  # comment`. No entries give `key: {}  # emptyComment`. Flow maps get the entries without comments: a comment
 * inside `{ }` would end the line and the map with it.
 */
export function insertCommentedMap(
  file: WorkflowFile,
  map: YAMLMap,
  key: string,
  entries: readonly CommentedEntry[],
  emptyComment: string,
  placement?: KeyPlacement,
): TextEdit {
  const value = Object.fromEntries(entries.map((entry) => [entry.key, entry.value]));
  const edit = insertPair(file, map, key, value, placement);
  if (map.flow === true) return edit;
  // insertPair renders every entry as `<indent>key: value` on a line of its own; those lines get the comments.
  const comments = new Map(entries.map((entry) => [`${renderScalar(entry.key)}: ${renderScalar(entry.value)}`, oneLine(entry.comment)]));
  if (entries.length === 0) comments.set(`${renderScalar(key)}: {}`, oneLine(emptyComment));
  const newline = detectNewline(file.text);
  const lines = edit.text.split(newline).map((line) => {
    const comment = comments.get(line.trim());
    return comment === undefined || comment === '' ? line : `${line}  # ${comment}`;
  });
  return { ...edit, text: lines.join(newline) };
}
