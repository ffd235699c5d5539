import { unnecessaryFullCloneRule } from '../../../../src/analysis/rules/performance/unnecessary-full-clone';
import { runRule } from '../../../support/analysis';

/** A pull request workflow whose job checks out with the given inputs and then runs the given steps. */
function workflow(checkoutInputs: string[], steps: string[], on = 'pull_request'): string {
  return [
    `on: ${on}`,
    'jobs:',
    '  test:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '        with:',
    ...checkoutInputs.map((line) => `          ${line}`),
    ...steps,
    '',
  ].join('\n');
}

describe('unnecessary-full-clone', () => {
  it('reports fetch-depth: 0 at its value when no step uses history', () => {
    const findings = runRule(unnecessaryFullCloneRule, workflow(['fetch-depth: 0'], ['      - run: go test ./...']));
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 8, column: 24, endLine: 8, endColumn: 25 })]);
    expect(findings[0]?.message).toBe(
      '`fetch-depth: 0` clones the full history in job `test`, but none of its steps appears to use history, tags or other branches',
    );
  });

  it.each([
    ['a quoted zero', ["fetch-depth: '0'"], ['      - run: npm test']],
    ['a working-tree diff check', ['fetch-depth: 0'], ['      - run: |', '          go generate ./...', '          git diff --exit-code -- gen/']],
    ['git rev-parse HEAD', ['fetch-depth: 0'], ['      - run: echo "sha=$(git rev-parse --short HEAD)" >> "$GITHUB_OUTPUT"']],
    ['a local action that does not use history', ['fetch-depth: 0'], ['      - uses: ./.github/actions/lint']],
  ])('reports %s', (_name, inputs, steps) => {
    const otherFiles = { '.github/actions/lint/action.yml': 'runs:\n  using: composite\n  steps:\n    - run: npx eslint .\n      shell: bash\n' };
    expect(runRule(unnecessaryFullCloneRule, workflow(inputs, steps), { otherFiles })).toHaveLength(1);
  });

  it.each([
    ['git describe', ['      - run: echo "version=$(git describe --tags)" >> "$GITHUB_OUTPUT"']],
    ['git log', ['      - run: git log --oneline -5']],
    ['a diff against the base branch', ['      - run: git diff --name-only origin/main...HEAD']],
    ['git push', ['      - run: git push origin HEAD:refs/heads/update']],
    ['a base ref handed over in env', ['      - run: ./scripts/lint-changed', '        env:', '          BASE_REF: ${{ github.base_ref }}']],
    ['a commit identity', ['      - run: git config user.name "ci-bot"']],
    ['a setuptools-scm style package build', ['      - run: python -m build']],
    ['an editable install of a local package', ['      - run: pip install -e dev/tooling']],
    ['a changelog tool', ['      - run: npx conventional-changelog -p angular']],
    ['a history-reading action', ['      - uses: tj-actions/changed-files@v46']],
    ['goreleaser in a with input', ['      - uses: some/runner@v1', '        with:', '          command: goreleaser check']],
    ['a whole-project native build', ['      - run: cmake -B build && cmake --build build']],
    ['a bare make', ['      - run: make']],
    ['a repository build script', ['      - run: ci/scripts/cpp_build.sh']],
    ['a documentation build', ['      - run: mkdocs build --strict']],
    ['an unknown local action', ['      - uses: ./.github/actions/missing']],
  ])('stays silent when the job has %s', (_name, steps) => {
    expect(runRule(unnecessaryFullCloneRule, workflow(['fetch-depth: 0'], steps))).toEqual([]);
  });

  it.each([
    ['fetch-tags', workflow(['fetch-depth: 0', 'fetch-tags: true'], ['      - run: go test ./...'])],
    ['a comment that explains the full clone', workflow(['fetch-depth: 0 # needed for the coverage diff'], ['      - run: go test ./...'])],
    ['a small depth', workflow(['fetch-depth: 2'], ['      - run: go test ./...'])],
    ['an expression', workflow(['fetch-depth: ${{ env.DEPTH }}'], ['      - run: go test ./...'])],
    ['a tag-triggered workflow', workflow(['fetch-depth: 0'], ['      - run: go test ./...'], "{ push: { tags: ['v*'] } }")],
  ])('stays silent for %s', (_name, text) => {
    expect(runRule(unnecessaryFullCloneRule, text)).toEqual([]);
  });
});
