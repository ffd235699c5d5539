/**
 * The comment at the end of a value's line (`uses: a/b@<sha> # v4.2.2`): set it, replacing the leading word of an
 * existing comment when that word is what is being replaced, else putting the new words in front of it.
 */
import { type Node, visit } from 'yaml';
import type { WorkflowFile } from '../rule';
import { contentEndOf, lineEndOf, startOf } from './layout';
import type { TextEdit } from './text-edits';

/**
 * The outermost flow collection (`{...}`, `[...]`) enclosing `node`, or undefined in block context. A comment can
 * only follow it: inside the brackets it would hide the rest of the line from the parser.
 */
function outermostFlowCollection(file: WorkflowFile, node: Node): Node | undefined {
  const offset = startOf(node);
  let outermost: Node | undefined;
  const check = (collection: Node & { flow?: boolean }): symbol | undefined => {
    const range = collection.range;
    if (range === null || range === undefined || offset < range[0] || offset >= range[1]) return visit.SKIP;
    if (collection.flow !== true) return undefined;
    outermost = collection;
    return visit.BREAK;
  };
  visit(file.doc, { Map: (_key, map) => check(map), Seq: (_key, seq) => check(seq) });
  return outermost;
}

/**
 * The edit that makes the comment on the line where `node` ends start with `words`, or undefined when no comment
 * can go there without changing what the YAML means: the node sits in a flow collection that goes on to a later
 * line, or other content follows it on its line. `replaces(word)` says whether the first word of an existing
 * comment is an old form of `words` (then only that word is replaced; other comments are kept after the new words).
 */
export function setTrailingComment(file: WorkflowFile, node: Node, words: string, replaces: (word: string) => boolean): TextEdit | undefined {
  const text = file.text;
  if (/[\r\n]/.test(words)) return undefined;
  const flow = outermostFlowCollection(file, node);
  const end = flow === undefined ? contentEndOf(text, node) : (flow.range?.[1] ?? startOf(flow));
  const lineEnd = lineEndOf(text, end);
  if (flow !== undefined && lineEndOf(text, contentEndOf(text, node)) !== lineEnd) return undefined;
  const rest = text.slice(end, lineEnd);
  if (rest.trim() === '') return { start: end, end: lineEnd, text: ` # ${words}` };
  const existing = /^(\s+)#(\s*)(\S*)/.exec(rest);
  if (existing === null) return undefined;
  const [, gap = '', space = '', firstWord = ''] = existing;
  const commentStart = end + gap.length + 1 + space.length;
  if (firstWord === '') return { start: end + gap.length, end: lineEnd, text: `# ${words}` };
  if (replaces(firstWord)) return { start: commentStart, end: commentStart + firstWord.length, text: words };
  return { start: commentStart, end: commentStart, text: `${words} # ` };
}
