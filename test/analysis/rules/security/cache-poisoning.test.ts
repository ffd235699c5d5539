import { readFileSync } from 'fs';
import { join } from 'path';
import { cachePoisoningRule } from '../../../../src/analysis/rules/security/cache-poisoning';
import { runRule } from '../../../support/analysis';

function workflow(on: string[], steps: string[]): string {
  return [...on, 'jobs:', '  release:', '    runs-on: ubuntu-latest', '    steps:', ...steps, ''].join('\n');
}

const tagPush = ['on:', '  push:', '    tags: ["v*"]', '  workflow_dispatch:'];
const ciPush = ['on:', '  push:', '    branches: [main]', '    tags: ["v*"]', '  pull_request:'];

describe('cache-poisoning', () => {
  it('reports an explicit cache input in a tag-only workflow at the input value', () => {
    const findings = runRule(
      cachePoisoningRule,
      workflow(tagPush, ['      - uses: actions/setup-node@v4', '        with:', '          cache: npm', '      - run: npm ci && npm run build']),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 11, column: 18, endLine: 11, endColumn: 21 })]);
    expect(findings[0]?.message).toContain('runs only for tag pushes');
  });

  it('reports actions that cache by default on the versions that do, at the uses value', () => {
    const findings = runRule(
      cachePoisoningRule,
      workflow(
        ['on:', '  release:', '    types: [published]'],
        [
          '      - uses: actions/setup-go@v5',
          '      - uses: actions/setup-go@v3',
          '      - uses: astral-sh/setup-uv@c771a70e6277c0a99b617c7a806ffedaca235ff9 # v9.0.0',
          '      - uses: astral-sh/setup-uv@v10',
          '      - uses: Swatinem/rust-cache@v2',
          '      - uses: Swatinem/rust-cache@v2',
          '        with:',
          '          lookup-only: true',
        ],
      ),
    );
    expect(findings.map((f) => [f.line, f.column])).toEqual([
      [8, 15],
      [10, 15],
      [12, 15],
    ]);
  });

  it('in mixed workflows, reports only jobs that publish, and only caches restored before publishing', () => {
    const findings = runRule(
      cachePoisoningRule,
      workflow(ciPush, [
        '      - uses: actions/cache@v4',
        '        with:',
        '          path: ~/.cargo',
        '          key: cargo',
        '      - run: cargo build --release',
        '      - run: cargo publish --dry-run',
        '      - if: startsWith(github.ref, \'refs/tags/\')',
        '        run: cargo publish',
        '      - uses: actions/setup-python@v5',
        '        with:',
        '          cache: pip',
      ]),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 10, column: 15, endColumn: 31 })]);
    expect(findings[0]?.message).toContain('publishes (`cargo publish`)');
  });

  it('counts image pushes of both docker build actions and the release-asset uploaders as publishing', () => {
    const cache = ['      - uses: actions/cache@v4', '        with:', '          path: ~/.cache', '          key: build'];
    const bake = workflow(ciPush, [...cache, '      - uses: docker/bake-action@v6', '        with:', '          push: true']);
    expect(runRule(cachePoisoningRule, bake)).toEqual([expect.objectContaining({ line: 10, column: 15 })]);
    expect(runRule(cachePoisoningRule, bake)[0]?.message).toContain('publishes (`docker/bake-action` with `push: true`)');
    const noPush = workflow(ciPush, [...cache, '      - uses: docker/bake-action@v6', '        with:', '          push: false']);
    expect(runRule(cachePoisoningRule, noPush)).toEqual([]);
    const asset = workflow(ciPush, [...cache, '      - uses: actions/upload-release-asset@v1']);
    expect(runRule(cachePoisoningRule, asset)[0]?.message).toContain('publishes (`actions/upload-release-asset`)');
  });

  it('stays silent in CI workflows without publishing, with caching off, or toggled by expressions', () => {
    const ciCache = workflow(ciPush, ['      - uses: actions/setup-node@v4', '        with:', '          cache: npm', '      - run: npm test']);
    expect(runRule(cachePoisoningRule, ciCache)).toEqual([]);
    const wrapperOnly = workflow(ciPush, ['      - uses: actions/cache@v4', '      - run: archery docker push ci-image']);
    expect(runRule(cachePoisoningRule, wrapperOnly)).toEqual([]);
    const disabled = workflow(tagPush, [
      '      - uses: actions/setup-go@v5',
      '        with:',
      '          cache: false',
      '      - uses: actions/setup-node@v4',
      '        with:',
      "          cache: ${{ !startsWith(github.ref, 'refs/tags/') && 'npm' || '' }}",
      '      - uses: astral-sh/setup-uv@v6',
      '        with:',
      '          enable-cache: false',
    ]);
    expect(runRule(cachePoisoningRule, disabled)).toEqual([]);
  });

  it('finds the default setup-go cache in nektos/act release workflow', () => {
    const text = readFileSync(join(__dirname, '../../../fixtures/security/nektos-act-release.yml'), 'utf8');
    const findings = runRule(cachePoisoningRule, text, { path: '.github/workflows/release.yml' });
    expect(findings).toEqual([expect.objectContaining({ line: 20, column: 15, endLine: 20, endColumn: 34 })]);
  });
});
