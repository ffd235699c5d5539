import { outdatedActionRuntimeRule } from '../../../../src/analysis/rules/compatibility/outdated-action-runtime';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

const steps = (...uses: string[]): string =>
  lines('on: push', 'jobs:', '  build:', '    runs-on: ubuntu-24.04', '    steps:', ...uses.map((u) => `      - uses: ${u}`));

describe('outdated-action-runtime', () => {
  it('reports majors on node12 (high) and node16 (medium) with the first supported major', () => {
    const findings = runRule(outdatedActionRuntimeRule, steps('actions/checkout@v2', 'actions/setup-node@v3.8.1', 'docker/login-action@v3'));
    expect(findings).toEqual([
      expect.objectContaining({ line: 6, column: 15, endLine: 6, endColumn: 34, severity: 'high', message: '`actions/checkout` v2 runs on node12, a Node.js runtime GitHub has removed from its runners.' }),
      expect.objectContaining({ line: 7, column: 15, endColumn: 40, severity: 'medium', message: containing('`actions/setup-node` v3 runs on node16') }),
    ]);
  });

  it('reads SHA pins through their version comment and leaves retired versions to retired-action-version', () => {
    const findings = runRule(
      outdatedActionRuntimeRule,
      steps('actions/checkout@f43a0e5ff2bd294095638e18286ca9a3d1956744 # v3.6.0', 'actions/upload-artifact@v3', 'actions/cache@v2'),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 6, message: containing('`actions/checkout` v3 runs on node16') })]);
  });

  it("reports an action of the repository declaring node16 at its runs.using", () => {
    const findings = runRule(
      outdatedActionRuntimeRule,
      lines('name: Greet', 'description: Says hello', 'runs:', '  using: node16', '  main: dist/index.js'),
      { path: '.github/actions/greet/action.yml' },
    );
    expect(findings).toEqual([expect.objectContaining({ line: 4, column: 10, endColumn: 16, severity: 'medium' })]);
  });

  it('stays silent on supported runtimes, unknown actions and composite actions', () => {
    expect(runRule(outdatedActionRuntimeRule, steps('actions/checkout@v4', 'actions/setup-python@v6', 'unknown/action@v1', 'actions/checkout@main'))).toEqual([]);
    expect(
      runRule(outdatedActionRuntimeRule, lines('name: a', 'description: b', 'runs:', '  using: node24', '  main: index.js'), { path: '.github/actions/a/action.yml' }),
    ).toEqual([]);
  });
});
