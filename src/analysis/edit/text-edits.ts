/**
 * Span edits on a file's text: the one representation every fix produces, so fixes compose (several per file,
 * applied at once) and every byte outside an edit stays as it was.
 */

/** Replaces `text[start, end)` (JavaScript string offsets, end exclusive) with `text`; start == end inserts. */
export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** Raised for edits that cannot be applied together (overlapping spans, offsets outside the text). */
export class EditConflictError extends Error {
  override readonly name = 'EditConflictError';
}

function sameEdit(a: TextEdit, b: TextEdit): boolean {
  return a.start === b.start && a.end === b.end && a.text === b.text;
}

/** Source order; at one offset an insertion goes before a replacement that starts there. */
function compareEdits(a: TextEdit, b: TextEdit): number {
  return a.start - b.start || a.end - b.end;
}

/**
 * True when two edits touch the same text: their spans intersect, or both insert at one offset (their order
 * would be a guess). A replacement ending where another edit starts does not overlap it.
 */
export function editsOverlap(a: TextEdit, b: TextEdit): boolean {
  if (a.start === a.end && b.start === b.end) return a.start === b.start;
  if (a.start === a.end) return b.start < a.start && a.start < b.end;
  if (b.start === b.end) return a.start < b.start && b.start < a.end;
  return a.start < b.end && b.start < a.end;
}

/** The edits sorted, identical duplicates merged; throws EditConflictError when two of them overlap. */
export function normalizeEdits(edits: readonly TextEdit[], textLength: number): TextEdit[] {
  const sorted = [...edits].sort(compareEdits);
  const unique: TextEdit[] = [];
  for (const edit of sorted) {
    if (edit.start < 0 || edit.end < edit.start || edit.end > textLength) {
      throw new EditConflictError(`edit [${edit.start}, ${edit.end}) is outside the text (length ${textLength})`);
    }
    const previous = unique[unique.length - 1];
    if (previous !== undefined && sameEdit(previous, edit)) continue;
    const clash = unique.find((kept) => editsOverlap(kept, edit));
    if (clash !== undefined) throw new EditConflictError(`edits [${clash.start}, ${clash.end}) and [${edit.start}, ${edit.end}) overlap`);
    unique.push(edit);
  }
  return unique;
}

/** The text with every edit applied (offsets refer to the original text). */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let result = '';
  let position = 0;
  for (const edit of normalizeEdits(edits, text.length)) {
    result += text.slice(position, edit.start) + edit.text;
    position = edit.end;
  }
  return result + text.slice(position);
}

/** True when no edit of `group` overlaps an edit of `accepted` (identical edits do not count as overlapping). */
export function fitsBeside(accepted: readonly TextEdit[], group: readonly TextEdit[]): boolean {
  return group.every((edit) => accepted.every((kept) => sameEdit(kept, edit) || !editsOverlap(kept, edit)));
}
