import { overbroadPermissionsRule } from '../../../../src/analysis/rules/security/overbroad-permissions';
import { runRule } from '../../../support/analysis';

const job = (id: string, extra: string[] = []): string[] => [`  ${id}:`, '    runs-on: ubuntu-latest', ...extra, '    steps:', '      - run: make', ''];

describe('overbroad-permissions', () => {
  it('reports write-all with high severity at the value', () => {
    const findings = runRule(overbroadPermissionsRule, ['on: push', 'permissions: write-all', 'jobs:', ...job('release')].join('\n'));
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 2, column: 14, endLine: 2, endColumn: 23 })]);
  });

  it('reports read-all with low severity where it applies to a job', () => {
    const findings = runRule(
      overbroadPermissionsRule,
      ['on: push', 'permissions: read-all', 'jobs:', ...job('test'), ...job('lint', ['    permissions: read-all'])].join('\n'),
    );
    expect(findings.map((f) => [f.line, f.severity])).toEqual([
      [2, 'low'],
      [11, 'low'],
    ]);
    const overridden = ['on: push', 'permissions: read-all', 'jobs:', ...job('test', ['    permissions:', '      contents: read'])].join('\n');
    expect(runRule(overbroadPermissionsRule, overridden)).toEqual([]);
  });

  it('reports each top-level write scope inherited by several jobs at the scope entry', () => {
    const findings = runRule(
      overbroadPermissionsRule,
      [
        'on: push',
        'permissions:',
        '  contents: write',
        '  issues: read',
        '  id-token: write',
        'jobs:',
        ...job('test'),
        ...job('lint'),
        ...job('docs', ['    permissions: {}']),
      ].join('\n'),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'medium', line: 3, column: 3, endLine: 3, endColumn: 18 }),
      expect.objectContaining({ severity: 'medium', line: 5, column: 3, endLine: 5, endColumn: 18 }),
    ]);
    expect(findings[0]?.message).toContain('granted to 2 jobs (`test`, `lint`)');
  });

  it('stays silent on a top-level write scope used by a single job', () => {
    const text = ['on: push', 'permissions:', '  contents: write', 'jobs:', ...job('release'), ...job('test', ['    permissions: {}'])].join('\n');
    expect(runRule(overbroadPermissionsRule, text)).toEqual([]);
  });
});
