import { scriptInjectionRule } from '../../../../src/analysis/rules/security/script-injection';
import { parseWorkflowFile } from '../../../../src/analysis/parse';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

describe('script-injection', () => {
  it('points at the expression inside a multi-line run script, critical under issues', () => {
    const findings = runRule(
      scriptInjectionRule,
      lines(
        'on:',
        '  issues:',
        '    types: [opened]',
        'jobs:',
        '  triage:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: |',
        '          echo "checking"',
        '          echo "Title: ${{ github.event.issue.title }}"',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'critical', line: 10, column: 24, endLine: 10, endColumn: 55 }),
    ]);
    expect(findings[0]?.message).toContain('attacker-controlled `github.event.issue.title`');
  });

  it('reports each occurrence, high under pull_request, with a shell-specific remediation', () => {
    const text = lines(
      'on: pull_request',
      'jobs:',
      '  build:',
      '    runs-on: windows-latest',
      '    steps:',
      '      - run: |',
      '          Write-Host "${{ github.head_ref }}"',
      '          git push origin "${{ github.head_ref }}"',
    );
    const findings = runRule(scriptInjectionRule, text);
    expect(findings.map((finding) => [finding.severity, finding.line, finding.column])).toEqual([
      ['high', 7, 23],
      ['high', 8, 28],
    ]);
    const reports: string[] = [];
    scriptInjectionRule.check({
      file: parseWorkflowFile('.github/workflows/ci.yml', text, 'workflow'),
      repo: { workflowFiles: [], fileExists: () => false, firstPartyOwners: [] },
      report: (report) => reports.push(report.remediation ?? ''),
    });
    expect(reports[0]).toContain('`HEAD_REF: ${{ github.head_ref }}`');
    expect(reports[0]).toContain('$env:HEAD_REF');
  });

  it('stays silent on known-safe contexts, boolean tests and values passed through env', () => {
    const findings = runRule(
      scriptInjectionRule,
      lines(
        'on: pull_request_target',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - env:',
        '          TITLE: ${{ github.event.pull_request.title }}',
        '        run: |',
        '          echo "#${{ github.event.pull_request.number }} at ${{ github.event.pull_request.head.sha }}"',
        '          echo "${{ contains(github.event.pull_request.title, \'WIP\') }} ${{ github.repository }}"',
        '          echo "${{ github.event.pull_request.title == \'x\' && \'yes\' || \'no\' }}"',
        '          echo "$TITLE ${{ toJSON(github.event.pull_request.labels.*.name) }}"',
      ),
    );
    expect(findings).toEqual([]);
  });

  it('ignores contexts the workflow triggers never fill', () => {
    const pushOnly = lines(
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "${{ github.event.pull_request.title }}" "${{ github.head_ref }}"',
      '      - run: echo "${{ github.event.head_commit.message }}"',
    );
    expect(runRule(scriptInjectionRule, pushOnly)).toEqual([expect.objectContaining({ severity: 'high', line: 7 })]);

    const guarded = lines(
      'on: [issues, push]',
      'jobs:',
      '  build:',
      "    if: github.event_name == 'push'",
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "${{ github.event.issue.title }}"',
    );
    expect(runRule(scriptInjectionRule, guarded)).toEqual([]);
  });

  it('reports actions/github-script code and env vars set from attacker text', () => {
    const findings = runRule(
      scriptInjectionRule,
      lines(
        'on: issue_comment',
        'env:',
        '  BODY: ${{ github.event.comment.body }}',
        'jobs:',
        '  reply:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/github-script@v7',
        '        with:',
        '          script: console.log("${{ github.event.comment.body }}")',
        '      - run: echo "${{ env.BODY }}"',
      ),
    );
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'critical', line: 10, column: 32, endColumn: 64 }),
      expect.objectContaining({ severity: 'critical', line: 11, column: 20, endColumn: 35 }),
    ]);
    expect(findings[0]?.message).toContain('actions/github-script');
    expect(findings[1]?.message).toContain('`env.BODY` (set from attacker-controlled `github.event.comment.body`)');
  });

  it('follows a step output written from attacker text unless the script rewrote the variable', () => {
    const workflow = (script: string): string =>
      lines(
        'on: pull_request_target',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - id: meta',
        '        env:',
        '          TITLE: ${{ github.event.pull_request.title }}',
        '        run: |',
        ...script.split('\n').map((line) => `          ${line}`),
        '      - run: echo "${{ steps.meta.outputs.title }}"',
      );
    const raw = runRule(scriptInjectionRule, workflow('echo "title=$TITLE" >> "$GITHUB_OUTPUT"'));
    expect(raw).toEqual([expect.objectContaining({ severity: 'critical', line: 11 })]);
    expect(raw[0]?.message).toContain('`steps.meta.outputs.title` (set from attacker-controlled `github.event.pull_request.title`)');
    const sanitized = workflow('TITLE="$(printf %s "$TITLE" | tr -cd a-z)"\necho "title=$TITLE" >> "$GITHUB_OUTPUT"');
    expect(runRule(scriptInjectionRule, sanitized)).toEqual([]);
  });

  it('reports toJSON of an object holding attacker text and scripts of composite actions', () => {
    const findings = runRule(
      scriptInjectionRule,
      lines(
        'name: debug',
        'runs:',
        '  using: composite',
        '  steps:',
        '    - shell: bash',
        "      run: echo '${{ toJSON(github.event) }}'",
      ),
      { path: '.github/actions/debug/action.yml' },
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 6, column: 18, endColumn: 45 })]);
    expect(findings[0]?.message).toContain('`github.event` with its attacker-controlled fields');
  });

  it('stays silent without code sinks', () => {
    const findings = runRule(
      scriptInjectionRule,
      lines(
        'on: issues',
        'jobs:',
        '  triage:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: some/action@v1',
        '        with:',
        '          title: ${{ github.event.issue.title }}',
      ),
    );
    expect(findings).toEqual([]);
  });
});

