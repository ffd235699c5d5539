import {
  admittedEvents,
  contextPath,
  contextPaths,
  contextsReachingValue,
  type ExpressionNode,
  expressionShape,
  findExpressions,
  parseCondition,
  parseExpression,
  possibleValues,
} from '../../../../../src/analysis/rules/security/support/expressions';

function parse(text: string): ExpressionNode {
  const node = parseExpression(text);
  if (!node) throw new Error(`does not parse: ${text}`);
  return node;
}

describe('expressions', () => {
  it('finds every ${{ }} with its offset, ignoring }} inside string literals', () => {
    expect(findExpressions("a ${{ format('}}{0}', x) }} b ${{ y }}")).toEqual([
      { text: "${{ format('}}{0}', x) }}", body: " format('}}{0}', x) ", offset: 2 },
      { text: '${{ y }}', body: ' y ', offset: 30 },
    ]);
    expect(findExpressions('${{ unterminated')).toEqual([]);
  });

  it('parses property chains, indexes, filters, calls and operators with offsets', () => {
    const node = parse("!startsWith(github.event['pull_request'].head.ref, 'x') || github.event.commits[0].message == 'a''b'");
    expect(node.kind).toBe('binary');
    const paths = contextPaths(node).map((path) => path.join('.'));
    expect(paths).toEqual(['github.event.pull_request.head.ref', 'github.event.commits.*.message']);
    const chain = parse('steps.my-step.outputs.*.name');
    expect(contextPath(chain)).toEqual(['steps', 'my-step', 'outputs', '*', 'name']);
    expect(parse('  github.actor  ')).toMatchObject({ kind: 'member', name: 'actor', start: 2, end: 14 });
    for (const invalid of ['a ==', 'f(a,', 'a.', "'open", 'a = b', '(a']) expect(parseExpression(invalid)).toBeUndefined();
  });

  it('follows only the contexts that can reach the value', () => {
    const classify = (path: string[]): { kind: 'value' | 'container'; origin: string } | undefined => {
      const dotted = path.join('.');
      if (dotted === 'github.event.issue.title' || dotted === 'github.event.commits.*.message') return { kind: 'value', origin: dotted };
      if (dotted === 'github.event') return { kind: 'container', origin: dotted };
      return undefined;
    };
    const reaching = (text: string): string[] =>
      contextsReachingValue(parse(text), classify).map((flow) => `${flow.origin}${flow.serialized ? ' (json)' : ''}`);
    expect(reaching('github.event.issue.title')).toEqual(['github.event.issue.title']);
    expect(reaching("format('{0}!', github.event.issue.title)")).toEqual(['github.event.issue.title']);
    expect(reaching("a && github.event.issue.title || 'none'")).toEqual(['github.event.issue.title']);
    expect(reaching("github.event.issue.title && 'yes'")).toEqual([]);
    expect(reaching("contains(github.event.issue.title, 'x')")).toEqual([]);
    expect(reaching("github.event.issue.title == 'x'")).toEqual([]);
    expect(reaching('github.event')).toEqual([]);
    expect(reaching('toJSON(github.event)')).toEqual(['github.event (json)']);
    expect(reaching('github.event.commits.*.message')).toEqual([]);
    expect(reaching("format('{0}', github.event.commits.*.message)")).toEqual([]);
    expect(reaching("join(github.event.commits.*.message, ' ')")).toEqual(['github.event.commits.*.message']);
    expect(reaching('github.event.commits[0].message')).toEqual(['github.event.commits.*.message']);
  });

  it('narrows the events a condition admits', () => {
    const all = new Set(['push', 'pull_request', 'issues']);
    const admitted = (text: string): string[] => [...admittedEvents(parse(text), all)].sort();
    expect(admitted("github.event_name == 'push'")).toEqual(['push']);
    expect(admitted("github.event_name != 'push' && success()")).toEqual(['issues', 'pull_request']);
    expect(admitted("'issues' == github.event_name || github.event_name == 'push'")).toEqual(['issues', 'push']);
    expect(admitted("!(github.event_name == 'push')")).toEqual(['issues', 'pull_request', 'push']);
  });

  it('lists the literal values an expression can produce', () => {
    const resolve = (path: string[]): unknown[] | undefined => (path.join('.') === 'matrix.os' ? ['linux', ['self-hosted', 'gpu']] : undefined);
    expect(possibleValues(parse("a == 'b' && 'x' || 'y'"), resolve)).toEqual({ values: ['x', 'y'], complete: true });
    expect(possibleValues(parse('matrix.os'), resolve)).toEqual({ values: ['linux', ['self-hosted', 'gpu']], complete: true });
    expect(possibleValues(parse('fromJSON(\'["self-hosted"]\')'), resolve)).toEqual({ values: [['self-hosted']], complete: true });
    expect(possibleValues(parse("inputs.runner || 'ubuntu-latest'"), resolve)).toEqual({ values: ['ubuntu-latest'], complete: false });
  });

  it('reads a condition only when it is plain text or exactly one expression', () => {
    expect(parseCondition("github.ref == 'x'")?.bodyOffset).toBe(0);
    expect(parseCondition('${{ a }}')).toMatchObject({ body: ' a ', bodyOffset: 3 });
    expect(parseCondition('${{ a }}\n')).toBeUndefined();
    expect(parseCondition('${{ a }} && ${{ b }}')).toBeUndefined();
  });

  it('gives equal shapes exactly to expressions of equal structure', () => {
    expect(expressionShape(parse("(a == 'x') && (B.c)"))).toBe(expressionShape(parse("a == 'x' && b.C")));
    expect(expressionShape(parse('(a || b) && c'))).not.toBe(expressionShape(parse('a || b && c')));
    expect(expressionShape(parse('x == (c == d)'))).not.toBe(expressionShape(parse('x == c == d')));
    expect(expressionShape(parse("!f(a['b'], c[0], d.*)"))).toBe('!(f(a.b,c[0],d.*))');
  });
});
