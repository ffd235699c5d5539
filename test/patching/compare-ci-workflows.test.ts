import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareCiWorkflows } from '../../src/patching/compare-ci-workflows';
import type { CiWorkflowComparison } from '../../src/patching/types';

const fixture = (name: string): string => readFileSync(join(__dirname, '../fixtures/ciworkflows', name), 'utf8');
const cliGo = fixture('cli-go.yml');
const checkDist = fixture('checkout-check-dist.yml');
const scorecards = fixture('containerd-scorecards.yml');
const PATH = '.github/workflows/ci.yml';

/** Replaces text that must exist in the fixture, so a changed fixture fails loudly instead of passing vacuously. */
function edit(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`fixture does not contain: ${from}`);
  return text.replace(from, to);
}

function kinds(result: CiWorkflowComparison): { violations: string[]; neutral: string[] } {
  return { violations: result.violations.map((v) => v.kind), neutral: result.neutralChanges.map((c) => c.kind) };
}

describe('compareCiWorkflows: no semantic change', () => {
  it('finds nothing between identical files', () => {
    expect(compareCiWorkflows(cliGo, cliGo, PATH)).toEqual({ violations: [], neutralChanges: [] });
  });

  it('ignores comments, quoting, flow style and key order', () => {
    let after = edit(cliGo, 'permissions:\n  contents: read', '# least privilege\npermissions: { contents: read }');
    after = edit(after, 'go-version-file: "go.mod"', "go-version-file: 'go.mod' # from go.mod");
    after = edit(after, '      - name: Build\n        run: go build -v ./cmd/gh', '      - run: go build -v ./cmd/gh\n        name: Build');
    expect(compareCiWorkflows(cliGo, after, PATH)).toEqual({ violations: [], neutralChanges: [] });
  });
});

describe('compareCiWorkflows: steps', () => {
  it('reports a removed step with its location', () => {
    const after = edit(cliGo, '      - name: Download dependencies\n        run: go mod download\n\n', '');
    const result = compareCiWorkflows(cliGo, after, PATH);
    expect(result.violations).toEqual([
      { kind: 'step-removed', message: 'job `build`: step "Download dependencies" was removed', path: PATH, location: 'jobs.build.steps[2]' },
    ]);
  });

  it('accepts reordered steps as a neutral change', () => {
    const tests = '      - name: Run unit and integration tests\n        run: go test -race -tags=integration ./...\n\n';
    const build = '      - name: Build\n        run: go build -v ./cmd/gh\n';
    const after = edit(cliGo, tests + build, `${build}\n${tests}`);
    expect(kinds(compareCiWorkflows(cliGo, after, PATH))).toEqual({ violations: [], neutral: ['steps-reordered'] });
  });

  it('pairs a renamed step by its script', () => {
    const after = edit(cliGo, '- name: Build\n        run: go build -v ./cmd/gh', '- name: Compile gh\n        run: go build -v ./cmd/gh');
    const result = compareCiWorkflows(cliGo, after, PATH);
    expect(result.violations).toEqual([]);
    expect(result.neutralChanges).toEqual([
      { kind: 'step-changed', message: 'job `build`: step "Build" changed (name)', path: PATH, location: 'jobs.build.steps[4]' },
    ]);
  });

  it('pairs an unnamed action step re-pinned to a commit SHA', () => {
    const after = edit(checkDist, '      - uses: actions/checkout@v7\n', '      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v7\n');
    const result = compareCiWorkflows(checkDist, after, PATH);
    expect(kinds(result)).toEqual({ violations: [], neutral: ['step-changed'] });
    expect(result.neutralChanges[0]?.message).toBe('job `check-dist`: step uses: actions/checkout@v7 changed (uses)');
  });

  it('pairs a run step whose name and script were both edited in place', () => {
    let after = edit(checkDist, '- name: Compare the expected and actual dist/ directories', '- name: Fail on stale dist/');
    after = edit(after, 'git diff --ignore-space-at-eol dist/ | wc -l', 'git diff --ignore-space-at-eol --text dist/ | wc -l');
    expect(kinds(compareCiWorkflows(checkDist, after, PATH))).toEqual({ violations: [], neutral: ['step-changed'] });
  });

  it('reports an unnamed step that was removed', () => {
    const upload = checkDist.slice(checkDist.indexOf('      # If dist/ was different'));
    const after = edit(checkDist, upload, '');
    const result = compareCiWorkflows(checkDist, after, PATH);
    expect(result.violations.map((v) => v.message)).toEqual(['job `check-dist`: step uses: actions/upload-artifact@v7 was removed']);
  });

  it('treats an unnamed step switched to another action as removed (strict)', () => {
    const after = edit(checkDist, '      - uses: actions/checkout@v7\n', '      - uses: someone/checkout-fork@v1\n');
    expect(kinds(compareCiWorkflows(checkDist, after, PATH))).toEqual({ violations: ['step-removed'], neutral: ['step-added'] });
  });

  it('keeps unchanged duplicates paired when one of two same-named steps is removed', () => {
    const before = 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Test\n        run: make unit\n      - name: Test\n        run: make e2e\n';
    const after = 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - name: Test\n        run: make e2e\n';
    expect(compareCiWorkflows(before, after, PATH).violations).toMatchObject([{ kind: 'step-removed', location: 'jobs.t.steps[0]' }]);
  });

  it('handles steps that are neither uses nor run (parallel groups, wait-all)', () => {
    const before = [
      'on: push',
      'jobs:',
      '  lint:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - uses: actions/checkout@v7',
      '      - parallel:',
      '          - run: make lint',
      '          - run: make typecheck',
      '      - name: Wait',
      '        wait-all:',
      '',
    ].join('\n');
    expect(compareCiWorkflows(before, edit(before, '- name: Wait', '- name: Wait for all'), PATH).violations).toEqual([]);
    const withoutGroup = edit(before, '      - parallel:\n          - run: make lint\n          - run: make typecheck\n', '');
    expect(compareCiWorkflows(before, withoutGroup, PATH).violations.map((v) => v.message)).toEqual(['job `lint`: step with parallel: was removed']);
  });

  it('reports a step disabled with if: false', () => {
    const after = edit(cliGo, '- name: Build\n        run: go build -v ./cmd/gh', '- name: Build\n        if: ${{ false }}\n        run: go build -v ./cmd/gh');
    expect(kinds(compareCiWorkflows(cliGo, after, PATH))).toEqual({ violations: ['step-disabled'], neutral: ['step-changed'] });
  });
});

describe('compareCiWorkflows: jobs and triggers', () => {
  it('reports a removed job', () => {
    const after = cliGo.slice(0, cliGo.indexOf('  integration-tests:'));
    const result = compareCiWorkflows(cliGo, after, PATH);
    expect(result.violations).toEqual([{ kind: 'job-removed', message: 'job `integration-tests` was removed', path: PATH, location: 'jobs.integration-tests' }]);
  });

  it('reports a disabled job', () => {
    const after = edit(cliGo, '  build:\n', '  build:\n    if: false\n');
    expect(kinds(compareCiWorkflows(cliGo, after, PATH)).violations).toEqual(['job-disabled']);
  });

  it('reports a removed trigger in list and map form', () => {
    expect(compareCiWorkflows(cliGo, edit(cliGo, 'on: [push, pull_request]', 'on: push'), PATH).violations).toMatchObject([
      { kind: 'trigger-removed', location: 'on.pull_request' },
    ]);
    const withoutDispatch = edit(checkDist, '  workflow_dispatch:\n', '');
    expect(kinds(compareCiWorkflows(checkDist, withoutDispatch, PATH)).violations).toEqual(['trigger-removed']);
  });

  it('treats a trigger filter change as neutral', () => {
    const after = edit(checkDist, "    paths-ignore:\n      - '**.md'\n  pull_request:", '  pull_request:');
    expect(kinds(compareCiWorkflows(checkDist, after, PATH))).toEqual({ violations: [], neutral: ['trigger-changed'] });
  });

  it('reports a new pull_request_target trigger', () => {
    const after = edit(cliGo, 'on: [push, pull_request]', 'on: [push, pull_request, pull_request_target]');
    expect(kinds(compareCiWorkflows(cliGo, after, PATH))).toEqual({ violations: ['pull-request-target-added'], neutral: [] });
  });

  it('reports secrets: inherit added to a reusable-workflow call, and on a new job', () => {
    const before = [
      'on: push',
      'jobs:',
      '  release:',
      '    uses: acme/shared/.github/workflows/release.yml@v2',
      '    secrets:',
      '      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}',
      '',
    ].join('\n');
    const after = edit(before, '    secrets:\n      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}', '    secrets: inherit');
    expect(compareCiWorkflows(before, after, PATH).violations).toMatchObject([{ kind: 'secrets-inherit-added', location: 'jobs.release.secrets' }]);
    const withNewJob = `${before}  docs:\n    uses: acme/shared/.github/workflows/docs.yml@v2\n    secrets: inherit\n`;
    expect(kinds(compareCiWorkflows(before, withNewJob, PATH))).toEqual({ violations: ['secrets-inherit-added'], neutral: ['job-added'] });
  });
});

describe('compareCiWorkflows: permissions', () => {
  const widen = (from: string, to: string, base = cliGo) => compareCiWorkflows(base, edit(base, from, to), PATH);

  it('reports a scope raised from read to write', () => {
    expect(widen('  contents: read', '  contents: write').violations).toEqual([
      {
        kind: 'permissions-widened',
        message: 'workflow-level permissions widened from contents: read to contents: write (contents read -> write)',
        path: PATH,
        location: 'permissions',
      },
    ]);
  });

  it('reports a scope newly added with write', () => {
    expect(widen('  contents: read\n', '  contents: read\n  packages: write\n').violations[0]?.message).toContain('packages none -> write');
  });

  it('reports read-all and write-all expansions', () => {
    expect(widen('permissions:\n  contents: read', 'permissions: read-all').violations[0]?.message).toMatch(
      /^workflow-level permissions widened from contents: read to read-all \(actions none -> read, .* and 9 more\)$/,
    );
    expect(kinds(widen('permissions:\n  contents: read', 'permissions: write-all')).violations).toEqual(['permissions-widened']);
  });

  it('reports a removed permissions block as widened to the repository default', () => {
    const result = widen('permissions:\n  contents: read\n', '');
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]?.message).toContain('to no permissions block (repository default');
  });

  it('accepts narrowed permissions', () => {
    expect(kinds(widen('permissions:\n  contents: read', 'permissions: {}'))).toEqual({ violations: [], neutral: ['permissions-narrowed'] });
    const added = edit(checkDist, 'jobs:\n', 'permissions:\n  contents: read\n\njobs:\n');
    expect(kinds(compareCiWorkflows(checkDist, added, PATH))).toEqual({ violations: [], neutral: ['permissions-narrowed'] });
  });

  it('compares a job block against what the job inherited', () => {
    const jobWrite = edit(cliGo, '  build:\n', '  build:\n    permissions:\n      contents: write\n');
    expect(compareCiWorkflows(cliGo, jobWrite, PATH).violations).toMatchObject([
      { kind: 'permissions-widened', location: 'jobs.build.permissions', message: expect.stringContaining('job `build` permissions widened') as unknown },
    ]);
    const jobRead = edit(cliGo, '  build:\n', '  build:\n    permissions:\n      contents: read\n');
    expect(compareCiWorkflows(cliGo, jobRead, PATH)).toEqual({ violations: [], neutralChanges: [] });
  });

  it('falls back to the workflow block when a job block is removed', () => {
    const jobWrite = edit(cliGo, '  build:\n', '  build:\n    permissions:\n      contents: write\n');
    expect(kinds(compareCiWorkflows(jobWrite, cliGo, PATH))).toEqual({ violations: [], neutral: ['permissions-narrowed'] });
  });

  it('knows a job block replaces the workflow block instead of adding to it', () => {
    // The scorecards job had no `contents` scope of its own; without its block it inherits `contents: read`.
    const withoutJobBlock = edit(
      scorecards,
      '    permissions:\n      # Needed to upload the results to code-scanning dashboard.\n      security-events: write\n      # Used to receive a badge.\n      id-token: write\n',
      '',
    );
    const result = compareCiWorkflows(scorecards, withoutJobBlock, PATH);
    expect(result.violations).toMatchObject([{ kind: 'permissions-widened', location: 'jobs.analysis.permissions' }]);
    expect(result.violations[0]?.message).toContain('(contents none -> read)');
  });

  it('reports a job scope swapped for a wider one even though another narrowed', () => {
    const after = edit(scorecards, '      id-token: write', '      contents: write');
    const result = compareCiWorkflows(scorecards, after, PATH);
    expect(result.violations).toMatchObject([{ kind: 'permissions-widened', location: 'jobs.analysis.permissions' }]);
    expect(result.violations[0]?.message).toContain('(contents none -> write)');
  });

  it('judges a new job against the workflow token it would have inherited', () => {
    const newJob = '  lint:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n      pull-requests: write\n    steps:\n      - run: make lint\n';
    const result = compareCiWorkflows(cliGo, `${cliGo}\n${newJob}`, PATH);
    expect(kinds(result)).toEqual({ violations: ['permissions-widened'], neutral: ['job-added'] });
    expect(result.violations[0]?.message).toContain('pull-requests none -> write');
  });
});

describe('compareCiWorkflows: whole files', () => {
  it('reports a deleted workflow with the jobs it loses', () => {
    expect(compareCiWorkflows(cliGo, null, PATH).violations).toEqual([
      { kind: 'file-deleted', message: 'the file is deleted, and with it jobs `build`, `integration-tests`', path: PATH },
    ]);
  });

  it('reports a patched file that is not valid YAML', () => {
    const result = compareCiWorkflows(cliGo, edit(cliGo, 'on: [push, pull_request]', 'on: [push, pull_request'), PATH);
    expect(kinds(result).violations).toEqual(['invalid-yaml']);
  });

  it('checks a new file only for what opens it up', () => {
    expect(kinds(compareCiWorkflows(null, cliGo, PATH))).toEqual({ violations: [], neutral: ['file-added'] });
    const risky = edit(cliGo, 'on: [push, pull_request]', 'on: pull_request_target');
    expect(kinds(compareCiWorkflows(null, risky, PATH))).toEqual({ violations: ['pull-request-target-added'], neutral: ['file-added'] });
  });

  it('treats a file that did not parse before as new', () => {
    expect(kinds(compareCiWorkflows('on: [push\njobs: {', cliGo, PATH))).toEqual({ violations: [], neutral: ['before-invalid-yaml'] });
  });

  it('compares the steps of a composite action', () => {
    const action = [
      'name: setup',
      'runs:',
      '  using: composite',
      '  steps:',
      '    - uses: actions/setup-go@v5',
      '    - name: Install tools',
      '      shell: bash',
      '      run: make tools',
      '',
    ].join('\n');
    const after = edit(action, '    - name: Install tools\n      shell: bash\n      run: make tools\n', '');
    expect(compareCiWorkflows(action, after, '.github/actions/setup/action.yml').violations).toMatchObject([
      { kind: 'step-removed', location: 'runs.steps[1]', message: 'action: step "Install tools" was removed' },
    ]);
  });
});
