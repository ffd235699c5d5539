import { isMap, isScalar, type Scalar, type YAMLMap } from 'yaml';
import { parseWorkflowFile } from '../../../src/analysis/parse';
import { applyEdits, type TextEdit } from '../../../src/analysis/edit/text-edits';
import { insertPair, isUnfixable, removePair, replaceScalar, setNestedPair, type Unfixable } from '../../../src/analysis/edit/yaml-edits';
import { detectNewline, indentStepFor } from '../../../src/analysis/edit/layout';
import { mapGet, stepsOf, type WorkflowFile } from '../../../src/analysis/rule';

function parsed(lines: string[], newline = '\n'): WorkflowFile {
  return parseWorkflowFile('.github/workflows/ci.yml', lines.join(newline), 'workflow');
}

function mapAt(file: WorkflowFile, ...path: string[]): YAMLMap {
  const node = path.reduce<unknown>((current, key) => mapGet(current, key), file.doc.contents);
  if (!isMap(node)) throw new Error(`no map at ${path.join('.')}`);
  return node;
}

function stepMap(file: WorkflowFile, index: number): YAMLMap {
  const step = stepsOf(file)[index];
  if (!step) throw new Error(`no step ${index}`);
  return step.node;
}

function applied(file: WorkflowFile, edit: TextEdit | Unfixable): string {
  if (isUnfixable(edit)) throw new Error(edit.unfixable);
  const text = applyEdits(file.text, [edit]);
  expect(parseWorkflowFile(file.path, text, file.kind).doc.errors).toEqual([]);
  return text;
}

const job = [
  'on: push # trigger',
  'jobs:',
  '  build: &build',
  '    runs-on: ubuntu-latest   # the runner',
  '',
  '    # the steps',
  '    steps:',
  '      - uses: actions/checkout@v4',
  '      - run: |',
  '          echo "a\tb"',
  '',
  '  again: *build',
  '',
];

describe('layout', () => {
  it('detects the newline and the indentation step', () => {
    expect(detectNewline('a: 1\r\nb: 2\r\n')).toBe('\r\n');
    expect(detectNewline('a: 1\nb: 2')).toBe('\n');
    const file = parsed(['jobs:', '    build:', '        runs-on: x', '']);
    expect(indentStepFor(file.text, mapAt(file, 'jobs', 'build'), file.doc.contents)).toBe(4);
  });
});

describe('insertPair', () => {
  it('inserts after a key at the map column, keeping comments, blank lines, anchors and aliases', () => {
    const file = parsed(job);
    const text = applied(file, insertPair(file, mapAt(file, 'jobs', 'build'), 'timeout-minutes', 30, { after: 'runs-on' }));
    expect(text).toBe(job.join('\n').replace('# the runner\n', '# the runner\n    timeout-minutes: 30\n'));
  });

  it('inserts at the end of a map whose last value is a block scalar, after the scalar', () => {
    const file = parsed(job);
    const text = applied(file, insertPair(file, stepMap(file, 1), 'shell', 'bash'));
    expect(text).toBe(job.join('\n').replace('echo "a\tb"\n', 'echo "a\tb"\n        shell: bash\n'));
  });

  it('inserts before a key, also when the key shares its line with a sequence dash', () => {
    const file = parsed(job);
    const text = applied(file, insertPair(file, stepMap(file, 0), 'name', 'Check out', { before: 'uses' }));
    expect(text).toContain('      - name: Check out\n        uses: actions/checkout@v4\n');
  });

  it('keeps CRLF line endings and 4-space indentation for nested maps', () => {
    const lines = ['on:', '    pull_request:', 'jobs:', '    test:', '        runs-on: x', ''];
    const file = parsed(lines, '\r\n');
    const text = applied(file, insertPair(file, mapAt(file), 'concurrency', { group: 'g', 'cancel-in-progress': true }, { after: 'on' }));
    expect(text).toBe(['on:', '    pull_request:', 'concurrency:', '    group: g', '    cancel-in-progress: true', 'jobs:', '    test:', '        runs-on: x', ''].join('\r\n'));
  });

  it('adds a blank line before a new section when sections are separated by blank lines', () => {
    const file = parsed(['on:', '  pull_request:', '', 'jobs:', '  a:', '    runs-on: x', '']);
    const text = applied(file, insertPair(file, mapAt(file), 'concurrency', { group: 'g' }, { after: 'on' }));
    expect(text).toBe(['on:', '  pull_request:', '', 'concurrency:', '  group: g', '', 'jobs:', '  a:', '    runs-on: x', ''].join('\n'));
  });

  it('adds an entry to a flow map, quoting what flow style needs quoted', () => {
    const file = parsed(['jobs:', '  a: {runs-on: x, steps: [{run: y}]}', '']);
    const text = applied(file, insertPair(file, mapAt(file, 'jobs', 'a'), 'concurrency', { group: '${{ github.ref }}' }));
    expect(text).toBe(['jobs:', "  a: {runs-on: x, steps: [{run: y}], concurrency: { group: '${{ github.ref }}' }}", ''].join('\n'));
  });

  it('fills an empty flow map', () => {
    const file = parsed(['env: {}', '']);
    expect(applied(file, insertPair(file, mapAt(file, 'env'), 'A', 'b'))).toBe('env: {A: b}\n');
  });

  it('keeps the trailing blank lines of a |+ scalar inside it', () => {
    const file = parsed(['a:', '  b: |+', '    text', '', 'c: 1', '']);
    const text = applied(file, insertPair(file, mapAt(file, 'a'), 'd', 2));
    expect(text).toBe(['a:', '  b: |+', '    text', '', '  d: 2', 'c: 1', ''].join('\n'));
  });

  it('inserts into a file without a final newline', () => {
    const file = parsed(['a:', '  b: 1']);
    expect(applied(file, insertPair(file, mapAt(file, 'a'), 'c', 2))).toBe('a:\n  b: 1\n  c: 2');
  });
});

describe('setNestedPair', () => {
  it("creates a step's with: map at the file's indentation", () => {
    const file = parsed(job);
    const text = applied(file, setNestedPair(file, stepMap(file, 0), 'with', 'persist-credentials', false));
    expect(text).toContain('      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - run: |');
  });

  it('adds to an existing block or flow with: map and replaces an existing value', () => {
    const block = parsed(['jobs:', '  a:', '    steps:', '      - uses: a/b@v1', '        with:', '          x: 1 # keep', '']);
    expect(applied(block, setNestedPair(block, stepMap(block, 0), 'with', 'y', 'z'))).toBe(['jobs:', '  a:', '    steps:', '      - uses: a/b@v1', '        with:', '          x: 1 # keep', '          y: z', ''].join('\n'));
    const flow = parsed(['with: { x: 1 }', '']);
    expect(applied(flow, setNestedPair(flow, mapAt(flow), 'with', 'y', false))).toBe('with: { x: 1, y: false }\n');
    const existing = parsed(['with:', "  persist-credentials: 'true'", '']);
    expect(applied(existing, setNestedPair(existing, mapAt(existing), 'with', 'persist-credentials', false))).toBe("with:\n  persist-credentials: 'false'\n");
  });

  it('fills an empty with: and refuses a computed one', () => {
    const empty = parsed(['uses: a/b@v1', 'with: # inputs', 'env: {}', '']);
    expect(applied(empty, setNestedPair(empty, mapAt(empty), 'with', 'k', 'v'))).toBe('uses: a/b@v1\nwith: # inputs\n  k: v\nenv: {}\n');
    const computed = parsed(['with: ${{ fromJSON(inputs.x) }}', '']);
    expect(isUnfixable(setNestedPair(computed, mapAt(computed), 'with', 'k', 'v'))).toBe(true);
  });
});

describe('replaceScalar', () => {
  it('keeps the quoting style', () => {
    const file = parsed(['a: plain', "b: 'single'", 'c: "double"', 'd: [x, y]', '']);
    const root = mapAt(file);
    const scalarOf = (key: string): Scalar => {
      const node = mapGet(root, key);
      if (!isScalar(node)) throw new Error(key);
      return node;
    };
    expect(applied(file, replaceScalar(file, scalarOf('a'), "it's"))).toContain("a: it's\n");
    expect(applied(file, replaceScalar(file, scalarOf('a'), 'x: y'))).toContain("a: 'x: y'\n");
    expect(applied(file, replaceScalar(file, scalarOf('b'), "it's"))).toContain("b: 'it''s'\n");
    expect(applied(file, replaceScalar(file, scalarOf('c'), 'say "hi"'))).toContain('c: "say \\"hi\\""\n');
  });

  it('quotes flow indicators inside flow collections and refuses block scalars', () => {
    const file = parsed(['d: [x, y]', 'e: |', '  text', '']);
    const sequence = mapGet(mapAt(file), 'd') as unknown as { items: Parameters<typeof replaceScalar>[1][] };
    const first = sequence.items[0];
    if (!first) throw new Error('no item');
    expect(applied(file, replaceScalar(file, first, 'a,b'))).toBe("d: ['a,b', y]\ne: |\n  text\n");
    const block = mapGet(mapAt(file), 'e') as unknown as Parameters<typeof replaceScalar>[1];
    expect(isUnfixable(replaceScalar(file, block, 'x'))).toBe(true);
  });
});

describe('removePair', () => {
  it('removes the lines of a block pair and nothing else', () => {
    const file = parsed(['a:', '  b: 1 # c', '  c:', '    - x', '  d: 2', '']);
    expect(applied(file, removePair(file, mapAt(file, 'a'), 'c'))).toBe('a:\n  b: 1 # c\n  d: 2\n');
  });

  it('hands the dash line to the next pair, and removes flow entries with one comma', () => {
    const file = parsed(['- x: 1', '  y: 2', '']);
    const item = (file.doc.contents as unknown as { items: YAMLMap[] }).items[0];
    if (!item) throw new Error('no item');
    expect(applied(file, removePair(file, item, 'x'))).toBe('- y: 2\n');
    const flow = parsed(['m: {a: 1, b: 2}', '']);
    expect(applied(flow, removePair(flow, mapAt(flow, 'm'), 'a'))).toBe('m: {b: 2}\n');
    expect(applied(flow, removePair(flow, mapAt(flow, 'm'), 'b'))).toBe('m: {a: 1}\n');
  });
});
