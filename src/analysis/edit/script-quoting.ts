/**
 * Where a place in a script sits among its quotes, so a fix can put an env var reference there that the script reads
 * as the same text: a POSIX shell script (bash, sh), a PowerShell script, or JavaScript (actions/github-script).
 * The scanners know strings, escapes, comments, command substitution, here-documents and template literals; `${{ }}`
 * expressions are skipped whole, since GitHub replaces them before the script is read.
 */
import type { Unfixable } from './yaml-edits';

export type ScriptLanguage = 'posix' | 'powershell' | 'javascript';

/**
 * What surrounds a place: `code` (unquoted, also inside `$( )` or a template's `${ }`), a string of some kind, a
 * comment, or a here-document whose body is expanded (`heredoc`) or literal (`literal-heredoc`).
 */
export type QuoteContext =
  | 'code'
  | 'double'
  | 'single'
  | 'ansi-c'
  | 'template'
  | 'comment'
  | 'heredoc'
  | 'literal-heredoc'
  | 'here-double'
  | 'here-single';

/** A quoted, commented or nested stretch of a script: `start` at its opening character, `end` after its closing one. */
export interface QuotedSpan {
  context: QuoteContext;
  start: number;
  end: number;
}

/** Stretches of `${{ ... }}`: the characters inside them never open or close anything. */
function expressionStretches(script: string): Array<[number, number]> {
  const stretches: Array<[number, number]> = [];
  for (let start = script.indexOf('${{'); start >= 0; start = script.indexOf('${{', start + 3)) {
    const end = script.indexOf('}}', start + 3);
    if (end < 0) break;
    stretches.push([start, end + 2]);
    start = end;
  }
  return stretches;
}

interface Frame {
  context: QuoteContext;
  start: number;
  /** For `code` frames: the character that closes them (`)` of `$(`, `}` of a template's `${`), else none. */
  closer?: string;
  /** Open brackets of that kind inside the frame, so the closer is found at depth 0. */
  depth: number;
}

/** A here-document announced on the current line (`<<EOF`, `<<-'EOF'`), whose body starts on the next one. */
interface PendingHeredoc {
  delimiter: string;
  literal: boolean;
  stripTabs: boolean;
}

class Scanner {
  readonly spans: QuotedSpan[] = [];
  private readonly stack: Frame[] = [{ context: 'code', start: 0, depth: 0 }];
  private readonly skips: Array<[number, number]>;
  private heredocs: PendingHeredoc[] = [];
  at = 0;

  constructor(
    readonly script: string,
    private readonly language: ScriptLanguage,
  ) {
    this.skips = expressionStretches(script);
  }

  scan(): QuotedSpan[] {
    const text = this.script;
    while (this.at < text.length) {
      const skip = this.skips.find(([start]) => start === this.at);
      if (skip) {
        this.at = skip[1];
        continue;
      }
      if (this.language === 'posix') this.posix();
      else if (this.language === 'powershell') this.powershell();
      else this.javascript();
    }
    // Unclosed frames reach to the end of the script.
    while (this.stack.length > 1) this.close(text.length);
    return this.spans;
  }

  private get top(): Frame {
    const frame = this.stack[this.stack.length - 1];
    if (frame === undefined) throw new Error('the scanner lost its outermost frame');
    return frame;
  }

  private open(context: QuoteContext, length: number, closer?: string): void {
    this.stack.push({ context, start: this.at, depth: 0, ...(closer === undefined ? {} : { closer }) });
    this.at += length;
  }

  /** Ends the innermost frame at `end` (after its closing characters). */
  private close(end: number): void {
    const frame = this.stack.pop();
    if (frame !== undefined) this.spans.push({ context: frame.context, start: frame.start, end });
    this.at = end;
  }

  private startsWith(text: string): boolean {
    return this.script.startsWith(text, this.at);
  }

  /** `# ...` (or `// ...`) to the end of the line, as a comment span. */
  private lineComment(): void {
    const lineEnd = this.script.indexOf('\n', this.at);
    const end = lineEnd < 0 ? this.script.length : lineEnd;
    this.spans.push({ context: 'comment', start: this.at, end });
    this.at = end;
  }

  /** Inside a `code` frame with a closer: brackets of its kind nest, the closer at depth 0 ends it. */
  private codeBracket(char: string): boolean {
    const frame = this.top;
    if (frame.context !== 'code' || frame.closer === undefined || frame.closer === '`') return false;
    const opener = frame.closer === ')' ? '(' : '{';
    if (char === opener) frame.depth += 1;
    else if (char === frame.closer) {
      if (frame.depth === 0) {
        this.close(this.at + 1);
        return true;
      }
      frame.depth -= 1;
    }
    return false;
  }

  private posix(): void {
    const text = this.script;
    const char = text[this.at] ?? '';
    const frame = this.top;
    if (frame.context === 'single') {
      if (char === "'") this.close(this.at + 1);
      else this.at += 1;
      return;
    }
    if (frame.context === 'ansi-c') {
      if (char === '\\') this.at += 2;
      else if (char === "'") this.close(this.at + 1);
      else this.at += 1;
      return;
    }
    if (frame.context === 'double') {
      if (char === '\\') this.at += 2;
      else if (char === '"') this.close(this.at + 1);
      else if (this.startsWith('$(')) this.open('code', 2, ')');
      else if (char === '`') this.open('code', 1, '`');
      else this.at += 1;
      return;
    }
    // code
    if (char === '\\') {
      this.at += 2;
    } else if (char === '\n') {
      this.at += 1;
      this.heredocBodies();
    } else if (frame.closer === '`' && char === '`') {
      this.close(this.at + 1);
    } else if (this.codeBracket(char)) {
      return;
    } else if (char === '#' && (this.at === 0 || /[\s;&|()]/.test(text[this.at - 1] ?? ''))) {
      this.lineComment();
    } else if (this.startsWith("$'")) {
      this.open('ansi-c', 2);
    } else if (char === "'") {
      this.open('single', 1);
    } else if (char === '"') {
      this.open('double', 1);
    } else if (this.startsWith('$(')) {
      this.open('code', 2, ')');
    } else if (char === '`') {
      this.open('code', 1, '`');
    } else if (this.startsWith('<<') && !this.startsWith('<<<')) {
      const announced = /^<<(-?)\s*(\\?)(['"]?)([A-Za-z_][\w-]*)\3/.exec(text.slice(this.at));
      if (announced) {
        const [whole, dash, backslash, quote, delimiter = ''] = announced;
        this.heredocs.push({ delimiter, literal: backslash !== '' || quote !== '', stripTabs: dash === '-' });
        this.at += whole.length;
      } else this.at += 2;
    } else {
      this.at += 1;
    }
  }

  /** At the start of a line after `<<EOF`: the bodies of the announced here-documents, in order. */
  private heredocBodies(): void {
    const text = this.script;
    for (const heredoc of this.heredocs) {
      const start = this.at;
      let end = text.length;
      let next = text.length;
      for (let lineStart = start; lineStart < text.length; ) {
        const lineFeed = text.indexOf('\n', lineStart);
        const lineEnd = lineFeed < 0 ? text.length : lineFeed;
        const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
        if ((heredoc.stripTabs ? line.replace(/^\t+/, '') : line) === heredoc.delimiter) {
          end = lineStart;
          next = lineFeed < 0 ? text.length : lineFeed + 1;
          break;
        }
        lineStart = lineEnd + 1;
      }
      this.spans.push({ context: heredoc.literal ? 'literal-heredoc' : 'heredoc', start, end });
      this.at = next;
    }
    this.heredocs = [];
  }

  private powershell(): void {
    const text = this.script;
    const char = text[this.at] ?? '';
    const frame = this.top;
    if (frame.context === 'single') {
      if (this.startsWith("''")) this.at += 2;
      else if (char === "'") this.close(this.at + 1);
      else this.at += 1;
      return;
    }
    if (frame.context === 'here-single' || frame.context === 'here-double') {
      const closer = frame.context === 'here-single' ? "'@" : '"@';
      const atLineStart = this.at === 0 || text[this.at - 1] === '\n';
      if (atLineStart && this.startsWith(closer)) this.close(this.at + 2);
      else if (frame.context === 'here-double' && this.startsWith('$(')) this.open('code', 2, ')');
      else this.at += 1;
      return;
    }
    if (frame.context === 'comment') {
      if (this.startsWith('#>')) this.close(this.at + 2);
      else this.at += 1;
      return;
    }
    if (frame.context === 'double') {
      if (char === '`' || this.startsWith('""')) this.at += 2;
      else if (char === '"') this.close(this.at + 1);
      else if (this.startsWith('$(')) this.open('code', 2, ')');
      else this.at += 1;
      return;
    }
    // code
    if (char === '`') this.at += 2;
    else if (this.codeBracket(char)) return;
    else if (this.startsWith('<#')) this.open('comment', 2);
    else if (char === '#') this.lineComment();
    else if (/^@'[ \t]*\r?\n/.test(text.slice(this.at, this.at + 4))) this.open('here-single', 2);
    else if (/^@"[ \t]*\r?\n/.test(text.slice(this.at, this.at + 4))) this.open('here-double', 2);
    else if (char === "'") this.open('single', 1);
    else if (char === '"') this.open('double', 1);
    else if (this.startsWith('$(')) this.open('code', 2, ')');
    else this.at += 1;
  }

  private javascript(): void {
    const text = this.script;
    const char = text[this.at] ?? '';
    const frame = this.top;
    if (frame.context === 'single' || frame.context === 'double') {
      const quote = frame.context === 'single' ? "'" : '"';
      if (char === '\\') this.at += 2;
      else if (char === quote) this.close(this.at + 1);
      else this.at += 1;
      return;
    }
    if (frame.context === 'template') {
      if (char === '\\') this.at += 2;
      else if (char === '`') this.close(this.at + 1);
      else if (this.startsWith('${')) this.open('code', 2, '}');
      else this.at += 1;
      return;
    }
    if (frame.context === 'comment') {
      if (this.startsWith('*/')) this.close(this.at + 2);
      else this.at += 1;
      return;
    }
    // code
    if (this.codeBracket(char)) return;
    if (this.startsWith('//')) this.lineComment();
    else if (this.startsWith('/*')) this.open('comment', 2);
    else if (char === "'") this.open('single', 1);
    else if (char === '"') this.open('double', 1);
    else if (char === '`') this.open('template', 1);
    else this.at += 1;
  }
}

/** The quoted, commented and nested stretches of a script, in the order they close. */
export function quotedSpans(script: string, language: ScriptLanguage): QuotedSpan[] {
  return new Scanner(script, language).scan();
}

/** The innermost stretch around `offset` (a `code` stretch for the top level), from quotedSpans(). */
export function spanAt(spans: readonly QuotedSpan[], offset: number, scriptLength: number): QuotedSpan {
  let innermost: QuotedSpan = { context: 'code', start: 0, end: scriptLength };
  for (const span of spans) {
    if (span.start <= offset && offset < span.end && span.start >= innermost.start) innermost = span;
  }
  return innermost;
}

/** A replacement in a script's text (offsets into the script, end exclusive). */
export interface ScriptEdit {
  start: number;
  end: number;
  text: string;
}

/** Characters next to a bare PowerShell reference that keep it one argument of its own. */
const powershellWordEdge = /^[\s();,|=]?$/;
/** Tokens before and after a JavaScript string literal that bind weaker than `+`, so `'a' + x + 'b'` stays one operand. */
const javascriptBefore = /(?:^|[(,=:?[{;+&|<>!]|=>|\breturn)\s*$/;
const javascriptAfter = /^\s*(?:$|[),;:?\]}+&|<>]|[!=]=)/;

/**
 * The edit that makes a script read env var `name` where the `${{ }}` at `offset` (of `length`) is now, keeping the
 * text the script sees for values without quotes or escapes; or why no edit can. `parseJson` asks JavaScript code to
 * turn the value back into what it pasted (`${{ toJSON(x) }}` written as code is a JavaScript value).
 */
export function envReferenceEdit(
  script: string,
  language: ScriptLanguage,
  spans: readonly QuotedSpan[],
  occurrence: { offset: number; length: number },
  name: string,
  parseJson: boolean,
): ScriptEdit | Unfixable {
  const { offset, length } = occurrence;
  const end = offset + length;
  const span = spanAt(spans, offset, script.length);
  const replace = (text: string): ScriptEdit => ({ start: offset, end, text });
  if (language === 'posix') {
    switch (span.context) {
      case 'code':
        return replace(`"\${${name}}"`);
      case 'double':
      case 'heredoc':
      case 'comment':
        return replace(`\${${name}}`);
      case 'single':
        // Close the single quotes, expand the variable in double quotes, reopen them.
        return replace(`'"\${${name}}"'`);
      default:
        return { unfixable: 'the expression is inside a literal here-document or `$\'...\'` string, where the shell expands no variable' };
    }
  }
  if (language === 'powershell') {
    switch (span.context) {
      case 'code':
        if (!powershellWordEdge.test(script[offset - 1] ?? '') || !powershellWordEdge.test(script[end] ?? '')) {
          return { unfixable: 'the expression is part of a longer PowerShell word' };
        }
        return replace(`$env:${name}`);
      case 'double':
      case 'here-double':
      case 'comment':
        // Braces end the name where a letter, digit or colon follows.
        return replace(/^[\w:?]/.test(script[end] ?? '') ? `\${env:${name}}` : `$env:${name}`);
      default:
        return { unfixable: 'the expression is inside a single-quoted PowerShell string, which expands no variable' };
    }
  }
  // In a string the pasted text was the string's content: the variable is that text, JSON or not.
  const value = `process.env.${name}`;
  switch (span.context) {
    case 'code':
      return parseJson ? replace(`JSON.parse(${value})`) : { unfixable: 'the expression is pasted as JavaScript code, not into a string' };
    case 'comment':
      return replace(value);
    case 'template':
      return replace(`\${${value}}`);
    case 'single':
    case 'double': {
      if (span.start === offset - 1 && span.end === end + 1) return { start: span.start, end: span.end, text: value };
      if (!javascriptBefore.test(script.slice(0, span.start)) || !javascriptAfter.test(script.slice(span.end))) {
        return { unfixable: 'the string around the expression is an operand that `+` would split' };
      }
      const quote = script[span.start] ?? "'";
      // At an end of the string no empty string is left behind: `'a ${{ x }}'` becomes `'a ' + process.env.X`.
      if (span.start === offset - 1) return { start: span.start, end, text: `${value} + ${quote}` };
      if (span.end === end + 1) return { start: offset, end: span.end, text: `${quote} + ${value}` };
      return replace(`${quote} + ${value} + ${quote}`);
    }
    default:
      return { unfixable: 'the expression is in a part of the script that is not understood' };
  }
}
