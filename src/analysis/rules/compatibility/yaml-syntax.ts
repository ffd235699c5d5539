import { isScalar, visit, type Scalar } from 'yaml';
import type { SourceRange } from '../../../domain/types';
import { rangeOf, type Rule, type WorkflowFile } from '../../rule';

/** The map key starting at an offset: the parser reports a duplicate key by its first character only. */
function keyAt(file: WorkflowFile, offset: number): Scalar | undefined {
  let found: Scalar | undefined;
  visit(file.doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = pair.key;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** The 1-based range of a parser error's offsets; an empty span is widened to the character it points at. */
function errorRange(file: WorkflowFile, start: number, end: number): SourceRange {
  const from = file.lineCounter.linePos(start);
  const widened = end > start ? end : start < file.text.length && file.text[start] !== '\n' ? start + 1 : start;
  const to = file.lineCounter.linePos(widened);
  return { line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
}

export const yamlSyntaxRule: Rule = {
  id: 'yaml-syntax',
  category: 'compatibility',
  severity: 'high',
  confidence: 'high',
  appliesTo: ['workflow', 'action'],
  description: 'Reports YAML syntax errors, including keys defined twice in the same mapping.',
  rationale:
    'GitHub cannot load a workflow or action file that is not valid YAML: the workflow never runs (the run list only ' +
    'shows "Invalid workflow file") and every job using a broken action fails. A key written twice is an error too: ' +
    'GitHub rejects the file instead of silently keeping one of the values. While a file has syntax errors no other ' +
    'check can read it, so these findings come first.',
  remediation:
    'Fix the YAML at the reported position: check indentation, unclosed quotes or brackets, a missing space after ' +
    '`:`, and tabs used for indentation. When a key appears twice, merge the two entries into one.',
  examples: {
    bad: ['name: CI', 'on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    runs-on: ubuntu-24.04', '    steps:', '      - run: echo hello', ''].join('\n'),
    good: ['name: CI', 'on: push', 'jobs:', '  test:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: echo hello', ''].join('\n'),
  },
  check(ctx) {
    const { file } = ctx;
    for (const error of file.doc.errors) {
      const [start, end] = error.pos;
      const key = error.code === 'DUPLICATE_KEY' ? keyAt(file, start) : undefined;
      const keyRange = key && rangeOf(file, key);
      if (key && keyRange) {
        ctx.report({ message: `Key \`${String(key.value)}\` is defined twice in the same mapping.`, range: keyRange });
      } else {
        ctx.report({ message: `YAML syntax error: ${error.message}`, range: errorRange(file, start, end) });
      }
    }
  },
};
