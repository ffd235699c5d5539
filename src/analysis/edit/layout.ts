/**
 * The layout facts of a YAML file that inserted text must copy: its line ending, the column of a node, the
 * indentation step of nested maps, and where a node's last line of content ends.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, type Node, Scalar, type YAMLMap } from 'yaml';

/** `\r\n` when the file's first line ends so, else `\n` (also for a file of one line). */
export function detectNewline(text: string): '\n' | '\r\n' {
  const firstBreak = text.indexOf('\n');
  return firstBreak > 0 && text[firstBreak - 1] === '\r' ? '\r\n' : '\n';
}

/** Offset of the first character of the line holding `offset`. */
export function lineStartOf(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Offset of the line break (`\r\n` or `\n`) ending the line holding `offset`, or the text's length. */
export function lineEndOf(text: string, offset: number): number {
  const lineFeed = text.indexOf('\n', offset);
  if (lineFeed < 0) return text.length;
  return lineFeed > 0 && text[lineFeed - 1] === '\r' ? lineFeed - 1 : lineFeed;
}

/** 0-based column of `offset` on its line. */
export function columnOf(text: string, offset: number): number {
  return offset - lineStartOf(text, offset);
}

/** Where a node starts in the text; throws for nodes the parser did not position (never true for parsed files). */
export function startOf(node: Node): number {
  const start = node.range?.[0];
  if (start === undefined) throw new Error('the node has no source position');
  return start;
}

/** True for `|` and `>` scalars. */
export function isBlockScalar(node: unknown): node is Scalar {
  return isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED);
}

/**
 * Where the content of a node ends: after its last character that is not trailing whitespace, a trailing comment
 * or a blank line. For a block collection, that of its last item (the parser's range would include the comments
 * and blank lines that follow it).
 */
export function contentEndOf(text: string, node: Node): number {
  if (isCollection(node) && !node.flow && node.items.length > 0) {
    const last = node.items[node.items.length - 1];
    if (isPair(last)) {
      const value = last.value as Node | null;
      return value !== null ? contentEndOf(text, value) : contentEndOf(text, last.key as Node);
    }
    return contentEndOf(text, last as Node);
  }
  let end = node.range?.[1] ?? startOf(node);
  if (isBlockScalar(node) || isAlias(node) || isScalar(node)) {
    while (end > startOf(node) && /\s/.test(text[end - 1] ?? '')) end -= 1;
  }
  return end;
}

/** Columns between a block map's keys and the keys of block maps nested in it, when one of its values shows it. */
function childStepOf(text: string, map: YAMLMap): number | undefined {
  for (const pair of map.items) {
    const value = pair.value as Node | null;
    const key = pair.key as Node | null;
    if (key === null || value === null || !isCollection(value) || value.flow) continue;
    const first = value.items[0];
    const firstNode = (isPair(first) ? first.key : first) as Node | null | undefined;
    if (firstNode?.range === undefined || firstNode.range === null) continue;
    const step = columnOf(text, firstNode.range[0]) - columnOf(text, startOf(key));
    // A sequence's `- ` may sit at the parent's column (`steps:\n- run: x`); that says nothing about map nesting.
    if (isMap(value) && step > 0) return step;
  }
  return undefined;
}

/**
 * The indentation step to use for a new nested map under `map`: the one its own children use, else the first one
 * seen in the document (depth-first), else 2.
 */
export function indentStepFor(text: string, map: YAMLMap, root: Node | null): number {
  const own = childStepOf(text, map);
  if (own !== undefined) return own;
  const search = (node: unknown): number | undefined => {
    if (isMap(node) && !node.flow) {
      const step = childStepOf(text, node);
      if (step !== undefined) return step;
    }
    if (isCollection(node)) {
      for (const item of node.items) {
        const found = search(isPair(item) ? item.value : item);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return search(root) ?? 2;
}
