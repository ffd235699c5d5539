/**
 * Bounded pieces of long text (test logs, diffs) for reports: the JSON and the Markdown form carry the same
 * excerpt and say how much was left out.
 */

export interface Excerpt {
  text: string;
  /** Characters of the whole text. */
  totalChars: number;
  truncated: boolean;
}

/** Moves a cut off the second half of a surrogate pair, so no character is split. */
function safeCut(text: string, index: number): number {
  const code = text.charCodeAt(index);
  return code >= 0xdc00 && code <= 0xdfff ? index + 1 : index;
}

/** The last `maxChars` characters, from a line start when one is near: the end of a log says why it failed. */
export function tailExcerpt(text: string, maxChars: number): Excerpt {
  if (text.length <= maxChars) return { text, totalChars: text.length, truncated: false };
  const start = safeCut(text, text.length - maxChars);
  const lineStart = text.indexOf('\n', start);
  const from = lineStart >= 0 && lineStart - start < maxChars / 4 ? lineStart + 1 : start;
  return { text: text.slice(from), totalChars: text.length, truncated: true };
}

/** The first `maxChars` characters, up to a line end when one is near: a diff is read from its first file. */
export function headExcerpt(text: string, maxChars: number): Excerpt {
  if (text.length <= maxChars) return { text, totalChars: text.length, truncated: false };
  const end = safeCut(text, maxChars);
  const lineEnd = text.lastIndexOf('\n', end);
  const to = lineEnd >= 0 && end - lineEnd < maxChars / 4 ? lineEnd + 1 : end;
  return { text: text.slice(0, to), totalChars: text.length, truncated: true };
}
