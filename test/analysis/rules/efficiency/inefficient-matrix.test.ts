import { inefficientMatrixRule } from '../../../../src/analysis/rules/efficiency/inefficient-matrix';
import { runRule } from '../../../support/analysis';

/** A workflow with one job `test` whose `strategy.matrix` is the given lines (indented under `matrix:`). */
function workflow(matrix: string[], options: { on?: string; condition?: string } = {}): string {
  return [
    `on: ${options.on ?? 'pull_request'}`,
    'jobs:',
    '  test:',
    ...(options.condition === undefined ? [] : [`    if: ${options.condition}`]),
    '    runs-on: ubuntu-latest',
    '    strategy:',
    '      matrix:',
    ...matrix.map((line) => `        ${line}`),
    '    steps:',
    '      - run: make test',
    '',
  ].join('\n');
}

describe('inefficient-matrix', () => {
  it('reports a repeated matrix value at the repeated item', () => {
    const findings = runRule(inefficientMatrixRule, workflow(['os: [ubuntu-latest, windows-latest, ubuntu-latest]', 'node: [20, 22]']));
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 7, column: 45, endLine: 7, endColumn: 58 })]);
    expect(findings[0]?.message).toBe('matrix `os` of job `test` lists this value twice, so every combination with it runs twice');
  });

  it('reports an exclude value that is not in the matrix at that value', () => {
    const findings = runRule(
      inefficientMatrixRule,
      workflow(['os: [ubuntu-latest, windows-latest]', 'node: [20, 22]', 'exclude:', '  - os: macos-latest', '    node: 20']),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 10, column: 17, endLine: 10, endColumn: 29 })]);
    expect(findings[0]?.message).toContain('`macos-latest` is not a value of matrix `os`');
  });

  it('reports include entries that repeat a generated combination or an earlier entry', () => {
    const findings = runRule(
      inefficientMatrixRule,
      workflow([
        'os: [ubuntu-latest, windows-latest]',
        'node: [20, 22]',
        'include:',
        '  - os: ubuntu-latest',
        '    node: 22',
        '  - os: ubuntu-latest',
        '    experimental: true',
        '  - os: macos-latest',
        '    node: 22',
        '  - os: macos-latest',
        '    node: 22',
      ]),
    );
    expect(findings.map((f) => [f.line, f.column])).toEqual([
      [10, 13],
      [16, 13],
    ]);
    expect(findings[0]?.message).toContain('has no effect');
    expect(findings[1]?.message).toContain('repeats an earlier one');
  });

  it('reports a matrix with more than 30 jobs on pull requests at the matrix key', () => {
    const findings = runRule(inefficientMatrixRule, workflow(['a: [1, 2, 3, 4, 5, 6]', 'b: [1, 2, 3, 4, 5, 6]', 'exclude:', '  - a: 1', '    b: 1']));
    expect(findings).toEqual([expect.objectContaining({ line: 6, column: 7, endLine: 6, endColumn: 13 })]);
    expect(findings[0]?.message).toBe('the matrix of job `test` starts 35 jobs for every pull request commit');
  });

  it('counts include entries that create new jobs towards the size', () => {
    const include = ['include:', ...Array.from({ length: 6 }, (_, i) => `  - os: extra-${i}`)];
    expect(runRule(inefficientMatrixRule, workflow(['os: [a, b, c, d, e]', 'v: [1, 2, 3, 4, 5]', ...include]))).toHaveLength(1);
    expect(runRule(inefficientMatrixRule, workflow(['os: [a, b, c, d, e]', 'v: [1, 2, 3, 4, 5]', ...include.slice(0, 6)]))).toEqual([]);
  });

  it('sizes include-only matrices by their entries', () => {
    const entries = (count: number): string[] => ['include:', ...Array.from({ length: count }, (_, i) => `  - target: t${i}`)];
    expect(runRule(inefficientMatrixRule, workflow(entries(31)))).toHaveLength(1);
    expect(runRule(inefficientMatrixRule, workflow(entries(30)))).toEqual([]);
  });

  it('matches matrix keys case-insensitively (real workflows exclude `os` from an `OS` matrix)', () => {
    const findings = runRule(inefficientMatrixRule, workflow(['OS: [a, b]', 'include:', '  - os: a']));
    expect(findings.map((f) => f.line)).toEqual([9]);
    expect(findings[0]?.message).toContain('has no effect');
  });

  it.each([
    ['a large matrix on push only', workflow(['a: [1, 2, 3, 4, 5, 6]', 'b: [1, 2, 3, 4, 5, 6]'], { on: 'push' })],
    ['a large matrix in a job conditioned on the event', workflow(['a: [1, 2, 3, 4, 5, 6]', 'b: [1, 2, 3, 4, 5, 6]'], { condition: "github.event_name == 'push'" })],
    ['exclude entries against values computed by expressions', workflow(['os: [a, b]', "pr: ['${{ github.event_name == ''pull_request'' }}']", 'exclude:', '  - pr: true', '    os: b'])],
    ['a matrix given as an expression', workflow(['include: ${{ fromJSON(needs.plan.outputs.matrix) }}'])],
    ['include entries that add keys or new combinations', workflow(['os: [a, b]', 'include:', '  - os: a', '    extra: 1', '  - os: c'])],
    ['an exclude value written as a number for a string in the matrix', workflow(['os: [a, b]', "python: ['3.10', '3.11']", 'exclude:', '  - os: a', '    python: 3.10'])],
  ])('stays silent for %s', (_name, text) => {
    expect(runRule(inefficientMatrixRule, text)).toEqual([]);
  });
});
