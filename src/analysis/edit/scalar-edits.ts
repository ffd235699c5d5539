/**
 * Edits inside the value of one scalar (a `run:` script, a `script:` input) made on its source text, so `|` and `>`
 * blocks, quoting, indentation, tabs and line endings stay as they are. Every result is checked by parsing the edited
 * file: the scalar must read back as exactly the edited value.
 */
import { isMap, isPair, isScalar, isSeq, type Node, parseDocument, Scalar } from 'yaml';
import type { WorkflowFile, YamlPathSegment } from '../rule';
import { applyEdits, type TextEdit } from './text-edits';
import { isUnfixable, replaceScalar, type Unfixable } from './yaml-edits';

/** A replacement of `value.slice(start, end)` in a scalar's value (value offsets, end exclusive). */
export interface ValueEdit {
  start: number;
  end: number;
  text: string;
}

/** The keys and indexes from the document's root to `target`, or undefined when it is not in the document. */
export function pathTo(root: unknown, target: Node): YamlPathSegment[] | undefined {
  if (root === target) return [];
  if (isMap(root)) {
    for (const pair of root.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const found = pathTo(pair.value, target);
      if (found) return [String(pair.key.value), ...found];
    }
  }
  if (isSeq(root)) {
    for (const [index, item] of root.items.entries()) {
      const found = pathTo(item, target);
      if (found) return [index, ...found];
    }
  }
  return undefined;
}

function occurrences(text: string, snippet: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(snippet); at >= 0; at = text.indexOf(snippet, at + snippet.length)) found.push(at);
  return found;
}

/** The replacement as the scalar's style writes it, or undefined when that style cannot hold it on one line. */
function sourceText(scalar: Scalar, text: string): string | undefined {
  if (/[\r\n]/.test(text)) return undefined;
  if (scalar.type === Scalar.QUOTE_DOUBLE) return JSON.stringify(text).slice(1, -1);
  if (scalar.type === Scalar.QUOTE_SINGLE) return text.replace(/'/g, "''");
  return text;
}

/**
 * The value edits as edits of the source: each replaced stretch is found in the source by its order among the
 * stretches with the same text, which holds wherever the source spells it as the value does (no escapes, no line
 * folding inside it).
 */
function inPlace(file: WorkflowFile, scalar: Scalar, value: string, edits: readonly ValueEdit[]): TextEdit[] | undefined {
  const [start, end] = scalar.range ?? [0, 0];
  const source = file.text.slice(start, end);
  const textEdits: TextEdit[] = [];
  for (const edit of edits) {
    const snippet = value.slice(edit.start, edit.end);
    const inValue = occurrences(value, snippet);
    const inSource = occurrences(source, snippet);
    const at = inSource[inValue.indexOf(edit.start)];
    const text = sourceText(scalar, edit.text);
    if (snippet === '' || inValue.length !== inSource.length || at === undefined || text === undefined) return undefined;
    textEdits.push({ start: start + at, end: start + at + snippet.length, text });
  }
  return textEdits;
}

/** True when the file with `edits` parses and the scalar at `path` reads `expected`. */
function readsBack(file: WorkflowFile, path: readonly YamlPathSegment[], edits: readonly TextEdit[], expected: string): boolean {
  const doc = parseDocument(applyEdits(file.text, edits), { prettyErrors: false, uniqueKeys: true, strict: false });
  if (doc.errors.length > 0) return false;
  const node: unknown = doc.getIn(path, true);
  return isScalar(node) && node.value === expected;
}

/**
 * Applies `edits` to the value of `scalar` through its source. Plain and quoted scalars whose value cannot be edited
 * in place are written anew in their quoting style (replaceScalar); block scalars never are.
 */
export function editScalarValue(file: WorkflowFile, scalar: Scalar, edits: readonly ValueEdit[]): TextEdit[] | Unfixable {
  const value = scalar.value;
  const path = pathTo(file.doc.contents, scalar);
  if (typeof value !== 'string' || scalar.range === undefined || scalar.range === null || path === undefined) {
    return { unfixable: 'the value is not a positioned string' };
  }
  let expected = '';
  let position = 0;
  for (const edit of [...edits].sort((a, b) => a.start - b.start)) {
    if (edit.start < position) return { unfixable: 'the edits of the value overlap' };
    expected += value.slice(position, edit.start) + edit.text;
    position = edit.end;
  }
  expected += value.slice(position);
  const direct = inPlace(file, scalar, value, edits);
  if (direct !== undefined && readsBack(file, path, direct, expected)) return direct;
  if (scalar.type === Scalar.BLOCK_LITERAL || scalar.type === Scalar.BLOCK_FOLDED) {
    return { unfixable: 'the block scalar spells the text differently from its value (folded or escaped), so it cannot be edited in place' };
  }
  const rewritten = replaceScalar(file, scalar, expected);
  if (isUnfixable(rewritten)) return rewritten;
  return readsBack(file, path, [rewritten], expected) ? [rewritten] : { unfixable: 'the edited value would not read back the same' };
}
