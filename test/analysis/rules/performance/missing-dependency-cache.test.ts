import { missingDependencyCacheRule } from '../../../../src/analysis/rules/performance/missing-dependency-cache';
import { runRule } from '../../../support/analysis';

/** A pull request workflow with one job `test` made of the given step lines. */
function workflow(steps: string[], options: { on?: string[]; runsOn?: string } = {}): string {
  return [
    ...(options.on ?? ['on: pull_request']),
    'jobs:',
    '  test:',
    `    runs-on: ${options.runsOn ?? 'ubuntu-latest'}`,
    '    steps:',
    '      - uses: actions/checkout@v4',
    ...steps,
    '',
  ].join('\n');
}

const nodeSteps = ['      - uses: actions/setup-node@v4', '        with:', '          node-version: 22', '      - run: npm ci'];

describe('missing-dependency-cache', () => {
  it('reports setup-node without cache when package-lock.json exists, at the uses value', () => {
    const findings = runRule(missingDependencyCacheRule, workflow(nodeSteps), { existingFiles: ['package-lock.json'] });
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 7, column: 15, endLine: 7, endColumn: 36 })]);
    expect(findings[0]?.message).toBe(
      '`actions/setup-node` in job `test` installs dependencies without caching them, although `package-lock.json` exists',
    );
  });

  it('does not guess when the repository view knows no lockfile', () => {
    expect(runRule(missingDependencyCacheRule, workflow(nodeSteps))).toEqual([]);
  });

  it.each([
    ['setup-python with pip', ['      - uses: actions/setup-python@v5', '      - run: python -m pip install -r requirements.txt'], 'requirements.txt'],
    ['setup-python with poetry', ['      - uses: actions/setup-python@v5', '      - run: poetry install --no-root'], 'poetry.lock'],
    ['setup-node with yarn on v5', ['      - uses: actions/setup-node@v5', '      - run: yarn install --frozen-lockfile'], 'yarn.lock'],
    ['setup-go before v4', ['      - uses: actions/setup-go@v3', '      - run: go test ./...'], 'go.sum'],
    ['setup-go pinned to a v3 commit', ['      - uses: actions/setup-go@6edd4406fa81c3da01a34fa6f6343087c207a568 # v3.5.0', '      - run: go build ./...'], 'go.sum'],
    ['setup-java with Maven', ['      - uses: actions/setup-java@v4', '        with:', '          distribution: temurin', '      - run: ./mvnw -B verify'], 'pom.xml'],
    ['setup-ruby with Bundler', ['      - uses: ruby/setup-ruby@v1', '      - run: bundle install'], 'Gemfile.lock'],
  ])('reports %s', (_name, steps, lockfile) => {
    const findings = runRule(missingDependencyCacheRule, workflow(steps), { existingFiles: [lockfile] });
    expect(findings.map((f) => f.line)).toEqual([7]);
    expect(findings[0]?.message).toContain(`\`${lockfile}\``);
  });

  const lockfiles = ['package-lock.json', 'yarn.lock', 'requirements.txt', 'go.sum', 'pom.xml'];
  it.each([
    ['a cache input', ['      - uses: actions/setup-node@v4', '        with:', '          cache: npm', '      - run: npm ci']],
    ['a deliberately empty cache input', ['      - uses: actions/setup-node@v4', '        with:', "          cache: ''", '      - run: npm ci']],
    ['setup-node v5 with npm (auto-cache from package.json)', ['      - uses: actions/setup-node@v5', '      - run: npm ci']],
    ['setup-node of unknown version with npm', ['      - uses: actions/setup-node@main', '      - run: npm ci']],
    ['setup-go v4 and later (cache on by default)', ['      - uses: actions/setup-go@v5', '      - run: go test ./...']],
    ['no install command in the job', ['      - uses: actions/setup-node@v4', '      - run: node scripts/check.js']],
    ['a global-only npm install', ['      - uses: actions/setup-node@v4', '      - run: npm install -g pnpm']],
    ['actions/cache in the job', ['      - uses: actions/cache@v4', '        with:', '          path: ~/.npm', '          key: npm', '      - uses: actions/setup-node@v4', '      - run: npm ci']],
    ['setup-gradle caching Gradle', ['      - uses: actions/setup-java@v4', '      - uses: gradle/actions/setup-gradle@v4', '      - run: ./gradlew build']],
  ])('stays silent for %s', (_name, steps) => {
    expect(runRule(missingDependencyCacheRule, workflow(steps), { existingFiles: lockfiles })).toEqual([]);
  });

  it('stays silent when a local composite action of the job caches', () => {
    const steps = ['      - uses: actions/setup-node@v4', '      - uses: ./.github/actions/npm-cache', '      - run: npm ci'];
    const otherFiles = {
      '.github/actions/npm-cache/action.yml': "runs:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n      with:\n        path: ~/.npm\n        key: npm-${{ hashFiles('package-lock.json') }}\n",
      '.github/actions/other/action.yml': 'runs:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n',
    };
    expect(runRule(missingDependencyCacheRule, workflow(steps), { existingFiles: lockfiles, otherFiles })).toEqual([]);
    const uncached = steps.map((line) => line.replace('npm-cache', 'other'));
    expect(runRule(missingDependencyCacheRule, workflow(uncached), { existingFiles: lockfiles, otherFiles })).toHaveLength(1);
  });

  it.each([
    ['tag pushes', { on: ['on:', '  push:', "    tags: ['v*']"] }, '.github/workflows/ci.yml', []],
    ['a release file name', {}, '.github/workflows/release.yml', []],
    ['a job that publishes', { on: ['on: push'] }, '.github/workflows/ci.yml', ['      - run: npm publish']],
    ['self-hosted runners', { runsOn: '[self-hosted, linux]' }, '.github/workflows/ci.yml', []],
  ])('stays silent for %s', (_name, options, path, extraSteps) => {
    const text = workflow([...nodeSteps, ...extraSteps], options);
    expect(runRule(missingDependencyCacheRule, text, { path, existingFiles: lockfiles })).toEqual([]);
  });
});
