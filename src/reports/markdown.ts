/**
 * Markdown that is safe to paste into a pull request body whatever text it carries. Text from users and
 * repositories (titles, names, paths, messages) is escaped so it cannot add markup, raw HTML or table cells; logs
 * and diffs go into fenced blocks that no line inside can close; invisible and control characters are removed;
 * and a document stops at a size limit between two whole blocks, saying so.
 */

/**
 * C0 controls but tab and line feed, DEL, C1 controls, bidirectional marks and controls (Trojan Source), line and
 * paragraph separators and the byte-order mark: they hide or reorder what a reader sees.
 */
function isHidden(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x09 && code !== 0x0a) ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0xfeff
  );
}

/** ASCII punctuation that starts inline markup, a block (heading, list, quote) or a table cell. */
const MARKUP_CHARACTERS = /[\\`*_{}[\]#+\-.!|~]/g;

/** Text with line breaks as `\n`, and without hidden characters and lone UTF-16 surrogates. */
export function visibleText(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n');
  let visible = '';
  for (let index = 0; index < lines.length; index++) {
    const code = lines.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdfff) {
      const low = lines.charCodeAt(index + 1);
      if (code <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        visible += lines.slice(index, index + 2);
        index += 1;
      }
    } else if (!isHidden(code)) {
      visible += lines.charAt(index);
    }
  }
  return visible;
}

/**
 * Untrusted text as one line of literal Markdown, also inside a table cell: markup characters backslash-escaped,
 * `<`, `>` and `&` as entities (so no raw HTML), line breaks and tabs as spaces.
 */
export function inlineText(text: string): string {
  return visibleText(text)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MARKUP_CHARACTERS, '\\$&')
    // A report pasted into a pull request must not notify people or teams: a zero-width space breaks `@name`.
    .replace(/@(?=[\w-])/g, '@&#8203;');
}

/** A token the service made (a commit hash, an id, a stage name) as code; anything else is escaped as text. */
export function code(token: string): string {
  return /^[\w.:/@-]+$/.test(token) ? `\`${token}\`` : inlineText(token);
}

/** Text in a fenced code block whose fence is longer than any backtick run inside, so no line can close it. */
export function fencedBlock(text: string, info: 'text' | 'diff' = 'text'): string {
  const body = visibleText(text).replace(/\n+$/, '');
  let longestRun = 0;
  for (const run of body.matchAll(/`+/g)) longestRun = Math.max(longestRun, run[0].length);
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/** A link whose destination cannot end early or break out: parentheses, angle brackets and blanks percent-encoded. */
export function link(text: string, url: string): string {
  const destination = url.replace(/[()<>\s\\`]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `[${inlineText(text)}](${destination})`;
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.map((cell) => (cell === '' ? '-' : cell)).join(' | ')} |`;
}

/**
 * A document built from whole blocks (a heading, a paragraph, a table row, a fenced block). Once a block does
 * not fit in `maxChars`, nothing more is added and the document ends with `cutNote`, so a fenced block is never
 * left open and a table row never half written.
 */
export class MarkdownDocument {
  private readonly parts: string[] = [];
  private length = 0;
  private cut = false;

  constructor(
    private readonly maxChars: number,
    private readonly cutNote: string,
  ) {}

  /** Adds lines that belong together (a table's header, a fenced block), or none of them. */
  add(...lines: string[]): void {
    if (this.cut) return;
    const text = lines.join('\n');
    // The note, preceded by a blank line (which also ends a table), must still fit after the last block.
    if (this.length + text.length + 1 + this.cutNote.length + 2 > this.maxChars) {
      this.cut = true;
      return;
    }
    this.parts.push(text);
    this.length += text.length + 1;
  }

  /**
   * A table of cells already escaped (inlineText, code): the header goes with the first row, then row by row, so
   * a cut keeps the rows before it; a blank line ends it. An empty cell shows a dash.
   */
  table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
    const [first, ...rest] = rows;
    if (first === undefined) return;
    this.add(tableRow(header), tableRow(header.map(() => '---')), tableRow(first));
    for (const row of rest) this.add(tableRow(row));
    this.blank();
  }

  /** Ends a paragraph, a table or a list. */
  blank(): void {
    this.add('');
  }

  render(): string {
    return this.cut ? `${this.parts.join('\n')}\n\n${this.cutNote}\n` : `${this.parts.join('\n')}\n`;
  }
}

/** Below GitHub's limit of 65,536 characters for a pull request body, with room for a few lines around it. */
export const MAX_REPORT_CHARS = 60_000;

/** A report's document: at most MAX_REPORT_CHARS, and a cut one says where the rest is. */
export function reportDocument(): MarkdownDocument {
  return new MarkdownDocument(MAX_REPORT_CHARS, '_This report was cut to stay below the size of a pull request body; its JSON form (`?format=json`) has every section and row._');
}

/** A time as people read it in a report: `2025-01-31 12:00:05 UTC`. */
export function timeText(iso: string | null): string {
  return iso === null ? '' : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** `850 ms`, `12.4 s`, `3 min 5 s`, `2 h 4 min`. */
export function durationText(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3_600)} h ${Math.floor((seconds % 3_600) / 60)} min`;
}

