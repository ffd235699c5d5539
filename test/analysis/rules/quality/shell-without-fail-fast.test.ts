import { shellWithoutFailFastRule } from '../../../../src/analysis/rules/quality/shell-without-fail-fast';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

describe('shell-without-fail-fast', () => {
  it('reports a custom bash shell without -e once, at the defaults shell, counting its multi-line scripts', () => {
    const findings = runRule(
      shellWithoutFailFastRule,
      lines(
        'on: push',
        'defaults:',
        '  run:',
        '    shell: bash -l {0}',
        'jobs:',
        '  test:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - run: |',
        '          conda env create -f environment.yml',
        '          pytest',
        '      - run: |',
        '          pip install . \\',
        '            --no-deps',
        '          python -m build',
        '      - run: single-command --flag',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'medium',
        line: 4,
        column: 12,
        endLine: 4,
        endColumn: 23,
        message: '2 multi-line scripts run under `bash -l {0}`, which has no `-e`: a failing command is ignored and only the last command decides whether the step fails.',
      }),
    ]);
  });

  it('reports tee pipelines under the default Linux shell at the pipeline line', () => {
    const findings = runRule(
      shellWithoutFailFastRule,
      lines('on: push', 'jobs:', '  build:', '    runs-on: ubuntu-24.04', '    steps:', '      - run: |', '          make all 2>&1 | tee build.log', '          echo done'),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 7, column: 11, endLine: 7, endColumn: 40, message: containing('the default shell (`bash -e {0}`)') })]);
  });

  it('reports multi-line cmd scripts without error checks', () => {
    const findings = runRule(
      shellWithoutFailFastRule,
      lines('on: push', 'jobs:', '  build:', '    runs-on: windows-2022', '    steps:', '      - shell: cmd', '        run: |', '          call build.bat', '          ctest ^', '            --output-on-failure'),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'low', line: 6, column: 16, endColumn: 19, message: containing('has 2 commands') })]);
  });

  it('stays silent on fail-fast shells, scripts that set -e or pipefail, Windows defaults and harmless tee', () => {
    const findings = runRule(
      shellWithoutFailFastRule,
      lines(
        'on: push',
        'jobs:',
        '  linux:',
        '    runs-on: ubuntu-24.04',
        '    steps:',
        '      - shell: bash',
        '        run: |',
        '          make | tee log',
        '          make test',
        '      - shell: bash -el {0}',
        '        run: |',
        '          a',
        '          b',
        '      - shell: bash {0}',
        '        run: |',
        '          set -euo pipefail',
        '          a | tee log',
        '      - run: |',
        '          echo "x=1" | tee -a "$GITHUB_OUTPUT"',
        '          ./flaky.sh | tee out.txt || true',
        '          summary | tee -a $GITHUB_STEP_SUMMARY',
        '      - shell: pwsh',
        '        run: |',
        '          a',
        '          b',
        '  windows:',
        '    runs-on: ${{ matrix.os }}',
        '    strategy:',
        '      matrix:',
        '        os: [ubuntu-24.04, windows-2022]',
        '    steps:',
        '      - run: |',
        '          make | tee log',
        '      - shell: cmd',
        '        run: |',
        '          call build.bat || exit /b 1',
        '          ctest',
      ),
    );
    expect(findings).toEqual([]);
  });
});
