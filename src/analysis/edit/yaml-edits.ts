/**
 * Format-preserving YAML edits: each builder reads the positioned nodes of a parsed WorkflowFile and returns text
 * edits that touch only the bytes they change. New text copies the file's line ending, the column of the map it
 * joins and the file's indentation step; comments, blank lines, anchors, block scalars and flow style elsewhere are
 * never rewritten, because nothing is ever re-serialized.
 */
import { isCollection, isMap, isPair, isScalar, type Node, parse, type Pair, Scalar, visit, type YAMLMap } from 'yaml';
import type { WorkflowFile } from '../rule';
import { columnOf, contentEndOf, detectNewline, indentStepFor, isBlockScalar, lineEndOf, lineStartOf, startOf } from './layout';
import type { TextEdit } from './text-edits';

/** A value a builder writes: a scalar, or a map of them (rendered in the style of the place it goes to). */
export type YamlValue = string | number | boolean | { readonly [key: string]: YamlValue };

/** Why an edit cannot be made without rewriting more than it should. */
export interface Unfixable {
  unfixable: string;
}

export function isUnfixable(value: unknown): value is Unfixable {
  return typeof value === 'object' && value !== null && 'unfixable' in value;
}

/** Where a new key goes among a map's keys: after or before an existing one (the end of the map when absent). */
export type KeyPlacement = { after: string } | { before: string };

// ---------------------------------------------------------------------------------------------------------------
// Rendering new text
// ---------------------------------------------------------------------------------------------------------------

/** True when `text` reads back as the same string written plain (in flow context also without `{}[],`). */
function plainReadsBack(text: string, inFlow: boolean): boolean {
  if (text === '' || text !== text.trim() || /[\n\r\t]/.test(text)) return false;
  if (inFlow && /[{}[\],]/.test(text)) return false;
  try {
    const read: unknown = parse(`key: ${text}\n`);
    return typeof read === 'object' && read !== null && (read as Record<string, unknown>).key === text;
  } catch {
    return false;
  }
}

/** A scalar as YAML source: plain when that reads back unchanged, else single-quoted, else double-quoted. */
export function renderScalar(value: string | number | boolean, inFlow = false): string {
  if (typeof value !== 'string') return String(value);
  if (plainReadsBack(value, inFlow)) return value;
  if (!/[\n\r\t\\]/.test(value) && /^[\x20-\x7e\u00a0-\uffff]*$/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  // JSON string escapes are valid in YAML double-quoted scalars.
  return JSON.stringify(value);
}

function renderFlowValue(value: YamlValue): string {
  if (typeof value !== 'object') return renderScalar(value, true);
  const entries = Object.entries(value).map(([key, item]) => `${renderScalar(key, true)}: ${renderFlowValue(item)}`);
  return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
}

/** `key: value` as block lines at `column`, nested maps `step` columns deeper. */
function renderBlockPair(key: string, value: YamlValue, column: number, step: number): string[] {
  const indent = ' '.repeat(column);
  if (typeof value !== 'object') return [`${indent}${renderScalar(key)}: ${renderScalar(value)}`];
  const entries = Object.entries(value);
  if (entries.length === 0) return [`${indent}${renderScalar(key)}: {}`];
  return [`${indent}${renderScalar(key)}:`, ...entries.flatMap(([childKey, child]) => renderBlockPair(childKey, child, column + step, step))];
}

// ---------------------------------------------------------------------------------------------------------------
// Finding places
// ---------------------------------------------------------------------------------------------------------------

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key);
}

function keyNodeOf(pair: Pair): Node {
  return pair.key as Node;
}

/** Where a pair's content ends (its value's, or its key's when the value is empty). */
function pairContentEnd(text: string, pair: Pair): number {
  const value = pair.value as Node | null;
  const valueIsEmpty = value === null || (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1]);
  return valueIsEmpty ? contentEndOf(text, keyNodeOf(pair)) : contentEndOf(text, value);
}

/** The deepest last node of a value (the last scalar of its last item...), to see how the pair's text ends. */
function lastLeafOf(node: Node): Node {
  if (isCollection(node) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1];
    const value = (isPair(last) ? (last.value ?? last.key) : last) as Node;
    return lastLeafOf(value);
  }
  return node;
}

/** True when the pair ends in a `|+`/`>+` scalar, whose trailing blank lines are part of its value. */
function endsInKeptBlankLines(text: string, pair: Pair): boolean {
  const value = pair.value as Node | null;
  if (value === null) return false;
  const leaf = lastLeafOf(value);
  if (!isBlockScalar(leaf)) return false;
  const header = text.slice(startOf(leaf), lineEndOf(text, startOf(leaf)));
  return /^[|>][1-9]?\+/.test(header);
}

/** True when a flow collection of the document encloses the node. */
function insideFlowCollection(file: WorkflowFile, node: Node): boolean {
  const offset = startOf(node);
  let inside = false;
  visit(file.doc, {
    Map: (_key, map) => checkFlow(map),
    Seq: (_key, seq) => checkFlow(seq),
  });
  return inside;

  function checkFlow(collection: Node & { flow?: boolean }): symbol | undefined {
    const range = collection.range;
    if (range === null || range === undefined || offset < range[0] || offset >= range[1]) return visit.SKIP;
    if (collection.flow === true) {
      inside = true;
      return visit.BREAK;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------------------------

/** Adds `key: value` to a flow map `{a: 1}`: beside the placement's key, after the last entry, or into `{}`. */
function insertIntoFlowMap(file: WorkflowFile, map: YAMLMap, key: string, value: YamlValue, placement: KeyPlacement | undefined): TextEdit {
  const entry = `${renderScalar(key, true)}: ${renderFlowValue(value)}`;
  const before = placement && 'before' in placement ? pairOf(map, placement.before) : undefined;
  if (before !== undefined) {
    const at = startOf(keyNodeOf(before));
    return { start: at, end: at, text: `${entry}, ` };
  }
  const after = (placement && 'after' in placement ? pairOf(map, placement.after) : undefined) ?? map.items[map.items.length - 1];
  if (after === undefined) {
    const open = startOf(map) + 1;
    return { start: open, end: open, text: entry };
  }
  const end = pairContentEnd(file.text, after);
  return { start: end, end, text: `, ${entry}` };
}

/**
 * Inserts `key: value` into a map: after the pair of `placement.after`, before the pair of `placement.before`, or
 * after the last pair. A block map gets new lines at the column of its keys (nested maps indented by the file's
 * step); a flow map gets `, key: value`. A multi-line value after a pair followed by a blank line gets a blank line
 * too, as top-level sections usually have.
 */
export function insertPair(file: WorkflowFile, map: YAMLMap, key: string, value: YamlValue, placement?: KeyPlacement): TextEdit {
  if (map.flow === true) return insertIntoFlowMap(file, map, key, value, placement);
  const text = file.text;
  const newline = detectNewline(text);
  const first = map.items[0];
  if (first === undefined) throw new Error('a block map always has a pair');
  const column = columnOf(text, startOf(keyNodeOf(first)));
  const lines = renderBlockPair(key, value, column, indentStepFor(text, map, file.doc.contents));
  const before = placement && 'before' in placement ? pairOf(map, placement.before) : undefined;
  if (before !== undefined) {
    const at = startOf(keyNodeOf(before));
    return { start: at, end: at, text: `${lines.join(newline).slice(column)}${newline}${' '.repeat(column)}` };
  }
  const anchor = (placement && 'after' in placement ? pairOf(map, placement.after) : undefined) ?? map.items[map.items.length - 1] ?? first;
  if (endsInKeptBlankLines(text, anchor)) {
    // The blank lines after a `|+` scalar belong to it: the new pair goes after them.
    const end = (anchor.value as Node).range?.[1] ?? text.length;
    const at = lineStartOf(text, end) === end ? end : lineEndOf(text, end);
    return { start: at, end: at, text: at === end ? `${lines.join(newline)}${newline}` : `${newline}${lines.join(newline)}` };
  }
  const at = lineEndOf(text, pairContentEnd(text, anchor));
  // Sections of a map separated by blank lines get one before the new section too; the end of a map is no section.
  const nextPair = map.items[map.items.indexOf(anchor) + 1];
  const nextLineStart = at + newline.length;
  const followedByBlankLine =
    nextPair !== undefined && nextLineStart < text.length && text.slice(nextLineStart, lineEndOf(text, nextLineStart)).trim() === '';
  const separator = lines.length > 1 && followedByBlankLine ? newline : '';
  return { start: at, end: at, text: `${newline}${separator}${lines.join(newline)}` };
}

/**
 * Replaces a scalar's value, keeping its quoting style where the new value can be written in it: plain stays plain
 * when it reads back, single and double quotes stay. Block scalars (`|`, `>`) are left to text-level rewrites.
 */
export function replaceScalar(file: WorkflowFile, scalar: Scalar, value: string | number | boolean): TextEdit | Unfixable {
  const range = scalar.range;
  if (range === null || range === undefined) return { unfixable: 'the value has no source position' };
  const [start, end] = range;
  const text = String(value);
  let source: string;
  switch (scalar.type) {
    case Scalar.QUOTE_SINGLE:
      source = /[\n\r]/.test(text) ? JSON.stringify(text) : `'${text.replace(/'/g, "''")}'`;
      break;
    case Scalar.QUOTE_DOUBLE:
      source = JSON.stringify(text);
      break;
    case Scalar.BLOCK_LITERAL:
    case Scalar.BLOCK_FOLDED:
      return { unfixable: 'the value is a block scalar (`|` or `>`)' };
    default:
      source = typeof value === 'string' ? renderScalar(value, insideFlowCollection(file, scalar)) : text;
  }
  return { start, end, text: source };
}

/**
 * Sets `key` in the map under `mapKey` of `owner` (a step's `with:` or `env:`): replaces the value of an existing
 * scalar, adds the pair to an existing map, or adds the map itself (placed by `placement` among the owner's keys).
 */
export function setNestedPair(
  file: WorkflowFile,
  owner: YAMLMap,
  mapKey: string,
  key: string,
  value: string | number | boolean,
  placement?: KeyPlacement,
): TextEdit | Unfixable {
  const holder = pairOf(owner, mapKey);
  if (holder === undefined) return insertPair(file, owner, mapKey, { [key]: value }, placement);
  const nested = holder.value as Node | null;
  if (isMap(nested)) {
    const existing = pairOf(nested, key);
    if (existing === undefined) return insertPair(file, nested, key, value);
    return isScalar(existing.value) ? replaceScalar(file, existing.value, value) : { unfixable: `\`${mapKey}.${key}\` is not a plain value` };
  }
  const empty = nested === null || (isScalar(nested) && nested.value === null && nested.range?.[0] === nested.range?.[1]);
  if (!empty) return { unfixable: `\`${mapKey}\` is not a map (it is computed or an alias)` };
  const text = file.text;
  const newline = detectNewline(text);
  const column = columnOf(text, startOf(keyNodeOf(holder)));
  const step = indentStepFor(text, owner, file.doc.contents);
  const at = lineEndOf(text, contentEndOf(text, keyNodeOf(holder)));
  return { start: at, end: at, text: `${newline}${renderBlockPair(key, value, column + step, step).join(newline)}` };
}

/**
 * Removes `key` and its value from a map. In a block map the pair's lines go; a pair that shares its line with a
 * sequence dash hands the line to the next pair (or leaves `{}`); in a flow map the entry and one comma go.
 */
export function removePair(file: WorkflowFile, map: YAMLMap, key: string): TextEdit | Unfixable {
  const text = file.text;
  const index = map.items.findIndex((pair) => isScalar(pair.key) && String(pair.key.value) === key);
  const pair = map.items[index];
  if (pair === undefined) return { unfixable: `there is no \`${key}\` to remove` };
  const start = startOf(keyNodeOf(pair));
  const next = map.items[index + 1];
  if (map.flow === true) {
    const previous = map.items[index - 1];
    if (next !== undefined) return { start, end: startOf(keyNodeOf(next)), text: '' };
    if (previous !== undefined) return { start: pairContentEnd(text, previous), end: pairContentEnd(text, pair), text: '' };
    return { start, end: pairContentEnd(text, pair), text: '' };
  }
  const lineStart = lineStartOf(text, start);
  const contentLineEnd = lineEndOf(text, pairContentEnd(text, pair));
  if (text.slice(lineStart, start).trim() !== '') {
    // `- key: value`: the dash stays.
    if (next !== undefined) return { start, end: startOf(keyNodeOf(next)), text: '' };
    return { start, end: contentLineEnd, text: '{}' };
  }
  const newline = detectNewline(text);
  const end = text.startsWith(newline, contentLineEnd) ? contentLineEnd + newline.length : contentLineEnd;
  return { start: lineStart, end, text: '' };
}
