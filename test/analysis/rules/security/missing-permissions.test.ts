import { missingPermissionsRule } from '../../../../src/analysis/rules/security/missing-permissions';
import { runRule } from '../../../support/analysis';

const job = (id: string, extra: string[] = []): string[] => [`  ${id}:`, '    runs-on: ubuntu-latest', ...extra, '    steps:', '      - run: make', ''];

describe('missing-permissions', () => {
  it('points at `on:` when neither the workflow nor any job declares permissions', () => {
    const findings = runRule(missingPermissionsRule, ['name: ci', 'on: push', 'jobs:', ...job('test'), ...job('lint')].join('\n'));
    expect(findings).toEqual([expect.objectContaining({ severity: 'medium', line: 2, column: 1, endLine: 2, endColumn: 3 })]);
    expect(findings[0]?.message).toContain('its 2 jobs run');
  });

  it('points at each job key lacking permissions when other jobs declare theirs', () => {
    const findings = runRule(
      missingPermissionsRule,
      ['on: push', 'jobs:', ...job('test'), ...job('release', ['    permissions:', '      contents: write'])].join('\n'),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 3, column: 3, endLine: 3, endColumn: 7 })]);
    expect(findings[0]?.message).toContain('job `test`');
  });

  it('accepts calls to local reusable workflows that declare permissions, not remote ones', () => {
    const caller = [
      'on: push',
      'jobs:',
      '  local:',
      '    uses: ./.github/workflows/reusable.yml',
      '  remote:',
      '    uses: octo-org/shared/.github/workflows/ci.yml@v1',
      ...job('release', ['    permissions: {}']),
    ].join('\n');
    const callee = ['on: workflow_call', 'permissions:', '  contents: read', 'jobs:', ...job('build')].join('\n');
    const findings = runRule(missingPermissionsRule, caller, { otherFiles: { '.github/workflows/reusable.yml': callee } });
    expect(findings.map((f) => f.message)).toEqual([expect.stringContaining('job `remote`')]);
    const undeclaredCallee = callee.replace('permissions:\n  contents: read\n', '');
    expect(runRule(missingPermissionsRule, caller, { otherFiles: { '.github/workflows/reusable.yml': undeclaredCallee } })).toHaveLength(2);
  });

  it('stays silent with top-level permissions, with every job declaring, and for workflow_call-only files', () => {
    expect(runRule(missingPermissionsRule, ['on: push', 'permissions: {}', 'jobs:', ...job('test')].join('\n'))).toEqual([]);
    expect(runRule(missingPermissionsRule, ['on: push', 'jobs:', ...job('test', ['    permissions: read-all'])].join('\n'))).toEqual([]);
    expect(runRule(missingPermissionsRule, ['on:', '  workflow_call:', 'jobs:', ...job('test')].join('\n'))).toEqual([]);
    expect(runRule(missingPermissionsRule, ['on: push', 'jobs: {}', ''].join('\n'))).toEqual([]);
  });
});
