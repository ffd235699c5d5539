import { selfHostedRunnerOnPrRule } from '../../../../src/analysis/rules/security/self-hosted-runner-on-pr';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

const job = (trigger: string, ...body: string[]): string =>
  lines(`on: ${trigger}`, 'jobs:', '  test:', ...body.map((line) => `    ${line}`), '    steps:', '      - run: make test');

describe('self-hosted-runner-on-pr', () => {
  it('points at the self-hosted label of a pull_request job', () => {
    const findings = runRule(selfHostedRunnerOnPrRule, job('pull_request', 'runs-on: [self-hosted, linux, x64]'));
    expect(findings).toEqual([expect.objectContaining({ severity: 'medium', line: 4, column: 15, endLine: 4, endColumn: 26 })]);
    expect(findings[0]?.message).toContain('`pull_request`');
  });

  it('resolves matrix values and literal outcomes of expressions, and reports runner groups with low confidence', () => {
    const matrix = job(
      'pull_request_target',
      'strategy:',
      '  matrix:',
      '    runner: [ubuntu-latest]',
      '    include:',
      '      - runner: [self-hosted, gpu]',
      'runs-on: ${{ matrix.runner }}',
    );
    expect(runRule(selfHostedRunnerOnPrRule, matrix)).toEqual([expect.objectContaining({ line: 9, column: 14 })]);
    const ternary = job('pull_request', "runs-on: ${{ github.repository == 'acme/app' && 'self-hosted' || 'ubuntu-latest' }}");
    expect(runRule(selfHostedRunnerOnPrRule, ternary)).toEqual([expect.objectContaining({ line: 4 })]);
    const group = job('pull_request', 'runs-on:', '  group: build-farm');
    const findings = runRule(selfHostedRunnerOnPrRule, group);
    expect(findings).toEqual([expect.objectContaining({ line: 5, column: 14, endColumn: 24 })]);
    expect(findings[0]?.message).toContain('runner group `build-farm`');
  });

  it('stays silent for hosted runners, unknown expressions, other triggers and same-repository jobs', () => {
    expect(runRule(selfHostedRunnerOnPrRule, job('pull_request', 'runs-on: ubuntu-latest'))).toEqual([]);
    expect(runRule(selfHostedRunnerOnPrRule, job('pull_request', 'runs-on: ${{ inputs.runner }}'))).toEqual([]);
    expect(runRule(selfHostedRunnerOnPrRule, job('pull_request', 'strategy:', '  matrix:', '    os: [ubuntu-latest, macos-latest]', 'runs-on: ${{ matrix.os }}'))).toEqual([]);
    expect(runRule(selfHostedRunnerOnPrRule, job('push', 'runs-on: self-hosted'))).toEqual([]);
    expect(runRule(selfHostedRunnerOnPrRule, job('[pull_request, push]', "if: github.event_name == 'push'", 'runs-on: self-hosted'))).toEqual([]);
    expect(
      runRule(selfHostedRunnerOnPrRule, job('pull_request', 'if: github.event.pull_request.head.repo.fork == false', 'runs-on: self-hosted')),
    ).toEqual([]);
  });
});
