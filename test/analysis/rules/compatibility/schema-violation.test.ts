import { readFileSync } from 'fs';
import { join } from 'path';
import { schemaViolationRule } from '../../../../src/analysis/rules/compatibility/schema-violation';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

describe('schema-violation', () => {
  it('reports a misspelled key at the key, with a suggestion', () => {
    const findings = runRule(
      schemaViolationRule,
      lines('name: CI', 'on:', '  push:', '    branch: [main]', 'jobs:', '  test:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: make test'),
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'high',
        line: 4,
        column: 5,
        endLine: 4,
        endColumn: 11,
        message: 'Unexpected key `branch` in `on.push`; did you mean `branches`?',
      }),
    ]);
  });

  it('reports a misspelled required key once, not also as missing', () => {
    const findings = runRule(schemaViolationRule, lines('on: push', 'jobs:', '  test:', '    run-on: ubuntu-24.04', '    steps:', '      - run: make'));
    expect(findings).toEqual([expect.objectContaining({ line: 4, column: 5, endColumn: 11, message: 'Unexpected key `run-on` in `jobs.test`; did you mean `runs-on`?' })]);
  });

  it('reports wrong value types, missing required keys, misplaced expressions and ambiguous steps', () => {
    const findings = runRule(
      schemaViolationRule,
      lines(
        'on: push',
        'permissions:',
        '  contents: maybe',
        'jobs:',
        '  test:',
        '    timeout-minutes: ten',
        '    steps:',
        '      - name: only a name',
        '  deploy:',
        '    runs-on: ubuntu-24.04',
        '    environment: { name: prod, url: 1 }',
        '    services: ${{ fromJSON(inputs.services) }}',
        '    steps:',
        '      - uses: actions/checkout@v5',
        '        with: [a]',
      ),
    );
    const byLine = [...findings].sort((a, b) => a.line - b.line || a.column - b.column);
    expect(byLine.map(({ line, column, message }) => ({ line, column, message }))).toEqual([
      { line: 3, column: 13, message: 'Unexpected value `maybe` for `permissions.contents`; expected one of `read`, `write`, `none`.' },
      { line: 5, column: 3, message: '`jobs.test` is missing the required key `runs-on`.' },
      { line: 6, column: 22, message: 'Unexpected value `ten` for `jobs.test.timeout-minutes`; expected a number or an expression.' },
      { line: 8, column: 9, message: '`jobs.test.steps[0]` must contain one of the keys `cancel`, `run`, `uses`, `wait`, `wait-all`.' },
      { line: 15, column: 9, message: '`jobs.deploy.steps[0].with` must not be a list; expected a mapping or an expression.' },
    ]);
  });

  it('reports keys defined twice with different case and expressions where GitHub allows none', () => {
    const findings = runRule(
      schemaViolationRule,
      lines('on:', '  push:', '    branches: ${{ github.ref }}', 'env:', '  TOKEN: a', '  token: b', 'jobs:', '  a:', '    runs-on: ubuntu-24.04', '    steps: [{ run: x }]'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ line: 3, column: 15, endColumn: 32, message: containing('`on.push.branches` cannot contain an expression') }),
      expect.objectContaining({ line: 6, column: 3, endColumn: 8, message: 'Key `token` is defined twice in `env` (GitHub compares keys case-insensitively).' }),
    ]);
  });

  it('reports an empty workflow file', () => {
    expect(runRule(schemaViolationRule, '# nothing yet\n')).toEqual([expect.objectContaining({ line: 1, column: 1, message: containing('empty') })]);
  });

  it('accepts what GitHub runs: ignored event configuration (helm/helm), background steps, anchors, expressions in keys', () => {
    const helm = readFileSync(join(__dirname, '../../../fixtures/compatibility/helm-release.yml'), 'utf8');
    expect(runRule(schemaViolationRule, helm)).toEqual([]);
    const modern = lines(
      'name: Build',
      'on:',
      '  workflow_dispatch:',
      '    inputs:',
      '      target: { type: choice, options: [a, b], default: a }',
      'jobs:',
      '  build:',
      '    runs-on: ${{ matrix.os }}',
      '    strategy:',
      '      matrix:',
      '        os: [ubuntu-24.04, macos-15]',
      '        include:',
      '          - os: ubuntu-24.04',
      '            extra: true',
      '    env: &shared',
      '      CI: true',
      '    steps:',
      '      - name: Warm up',
      '        run: ./warm.sh',
      '        background: true',
      '      - wait-all:',
      '      - uses: actions/checkout@v5',
      '        with:',
      '          fetch-depth: 0',
      '        env: *shared',
      '        timeout-minutes: ${{ inputs.timeout }}',
      '  report:',
      '    needs: build',
      '    if: ${{ always() }}',
      '    uses: ./.github/workflows/report.yml',
      '    secrets: inherit',
    );
    expect(runRule(schemaViolationRule, modern)).toEqual([]);
  });
});
