import { retiredActionVersionRule } from '../../../../src/analysis/rules/compatibility/retired-action-version';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

const steps = (...uses: string[]): string =>
  lines('on: push', 'jobs:', '  build:', '    runs-on: ubuntu-24.04', '    steps:', ...uses.map((u) => `      - uses: ${u}`));

describe('retired-action-version', () => {
  it('reports artifact actions up to v3 and cache v1/v2 at the uses value', () => {
    const findings = runRule(retiredActionVersionRule, steps('actions/upload-artifact@v3', 'actions/download-artifact@v2.1.0', 'actions/cache@v2'));
    expect(findings).toEqual([
      expect.objectContaining({ line: 6, column: 15, endLine: 6, endColumn: 41, severity: 'high', message: containing('`actions/upload-artifact@v3` no longer works since 2025-01-30') }),
      expect.objectContaining({ line: 7, column: 15, endColumn: 47 }),
      expect.objectContaining({ line: 8, column: 15, endColumn: 31, message: containing('since 2025-03-01') }),
    ]);
  });

  it('reads the version comment of SHA pins and minor versions of actions/cache', () => {
    const findings = runRule(
      retiredActionVersionRule,
      steps(
        'actions/upload-artifact@a8a3f3ad30e3422c9c7b888a15615d19a852ae32 # v3.1.3',
        'actions/cache/restore@v3.3.1',
        'actions/cache@0c45773b623bea8c8e75f6c82b208c3cf94ea4f9 # v4.0.2',
      ),
    );
    expect(findings.map((f) => [f.line, f.message])).toEqual([
      [6, containing('`actions/upload-artifact` pinned at v3.1.3 (per its version comment)')],
      [7, containing('`actions/cache/restore@v3.3.1`')],
      [8, containing('`actions/cache` pinned at v4.0.2')],
    ]);
  });

  it('stays silent on current versions, branches and unversioned pins', () => {
    const findings = runRule(
      retiredActionVersionRule,
      steps(
        'actions/upload-artifact@v4',
        'actions/cache@v3',
        'actions/cache@v4.2.0',
        'actions/download-artifact@main',
        'actions/upload-artifact@a8a3f3ad30e3422c9c7b888a15615d19a852ae32',
        'someone/upload-artifact@v3',
        './.github/actions/cache',
      ),
    );
    expect(findings).toEqual([]);
  });
});
