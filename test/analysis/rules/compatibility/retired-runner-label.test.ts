import { readFileSync } from 'fs';
import { join } from 'path';
import { retiredRunnerLabelRule } from '../../../../src/analysis/rules/compatibility/retired-runner-label';
import { containing, lines } from '../text-matchers';
import { runRule } from '../../../support/analysis';

const job = (runsOn: string, ...extra: string[]): string =>
  lines('on: push', 'jobs:', '  build:', `    runs-on: ${runsOn}`, ...extra, '    steps:', '      - run: make');

describe('retired-runner-label', () => {
  it('reports a retired image at the label', () => {
    expect(runRule(retiredRunnerLabelRule, job('ubuntu-20.04'))).toEqual([
      expect.objectContaining({
        severity: 'high',
        line: 4,
        column: 14,
        endLine: 4,
        endColumn: 26,
        message: 'Job `build` runs on `ubuntu-20.04`, a GitHub-hosted image retired on 2025-04-15; the job can no longer start.',
      }),
    ]);
  });

  it('resolves matrix values, including include entries, in a real workflow (tauri-apps/tauri)', () => {
    const text = readFileSync(join(__dirname, '../../../fixtures/compatibility/tauri-publish-cli-rs.yml'), 'utf8');
    expect(runRule(retiredRunnerLabelRule, text)).toEqual([
      expect.objectContaining({ line: 21, column: 17, endLine: 21, endColumn: 29, message: containing('(from `matrix.config.os`)') }),
    ]);
  });

  it('resolves a label template around a matrix value', () => {
    const findings = runRule(
      retiredRunnerLabelRule,
      job('macos-${{ matrix.version }}', '    strategy:', '      matrix:', '        version: [14, 13]'),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 7, column: 23, endColumn: 25, message: containing('`macos-13`') })]);
  });

  it('finds retired literals inside other expressions', () => {
    const findings = runRule(retiredRunnerLabelRule, job("${{ github.repository == 'a/b' && 'windows-2019' || 'windows-2022' }}"));
    expect(findings).toEqual([expect.objectContaining({ line: 4, column: 48, endColumn: 62, message: containing('`windows-2019`') })]);
  });

  it('reports misspelled GitHub-hosted labels with a suggestion', () => {
    expect(runRule(retiredRunnerLabelRule, job('ubuntu-lastest'))).toEqual([
      expect.objectContaining({ line: 4, column: 14, endColumn: 28, message: containing('did you mean `ubuntu-latest`?') }),
    ]);
  });

  it('leaves self-hosted sets, groups, custom labels and possibly newer versions alone', () => {
    for (const runsOn of [
      '[self-hosted, ubuntu-20.04]',
      '[ubuntu-20.04, gpu]',
      '{ group: big-runners, labels: [ubuntu-20.04] }',
      'ubuntu-2404-2core',
      'depot-ubuntu-24.04-arm-16',
      'ubuntu-28.04',
      'macos-27',
      'ubuntu-latest-16-cores',
      '${{ inputs.runner }}',
      'Ubuntu-Latest',
      'ubuntu-slim',
    ]) {
      expect(runRule(retiredRunnerLabelRule, job(runsOn))).toEqual([]);
    }
  });
});
