import { envFileInjectionRule } from '../../../../src/analysis/rules/security/env-file-injection';
import { repositoryFromFiles } from '../../../../src/analysis/discover';
import { analyzeRepository } from '../../../../src/analysis/engine';
import { runRule } from '../../../support/analysis';

const lines = (...text: string[]): string => [...text, ''].join('\n');

const workflow = (trigger: string, ...script: string[]): string =>
  lines(
    `on: ${trigger}`,
    'jobs:',
    '  label:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - env:',
    '          TITLE: ${{ github.event.pull_request.title }}',
    '        run: |',
    ...script.map((line) => `          ${line}`),
  );

describe('env-file-injection', () => {
  it('points at an env var carrying attacker text into GITHUB_ENV under pull_request_target', () => {
    const findings = runRule(envFileInjectionRule, workflow('pull_request_target', 'echo "checking"', 'echo "PR_TITLE=$TITLE" >> "$GITHUB_ENV"'));
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 10, column: 26, endLine: 10, endColumn: 32 })]);
    expect(findings[0]?.message).toContain('env var `TITLE` (set from attacker-controlled `github.event.pull_request.title`) to `$GITHUB_ENV`');
  });

  it('explains why it offers no fix', () => {
    const view = repositoryFromFiles(new Map([['.github/workflows/ci.yml', workflow('pull_request_target', 'echo "PR_TITLE=$TITLE" >> "$GITHUB_ENV"')]]));
    const [finding] = analyzeRepository(view, { rules: [envFileInjectionRule] }).findings;
    expect(finding).toMatchObject({ fixable: false, fixNote: expect.stringContaining('would not help') as unknown });
  });

  it('reports expressions written to GITHUB_PATH and heredoc bodies, not GITHUB_OUTPUT', () => {
    const findings = runRule(
      envFileInjectionRule,
      workflow(
        'pull_request_target',
        'echo "${{ github.event.pull_request.head.ref }}" >> $GITHUB_PATH',
        'cat >> "$GITHUB_ENV" <<EOF',
        'BODY=$TITLE',
        'EOF',
        'echo "title=$TITLE" >> "$GITHUB_OUTPUT"',
      ),
    );
    expect(findings.map((finding) => [finding.line, finding.column])).toEqual([
      [9, 17],
      [11, 16],
    ]);
    expect(findings[0]?.message).toContain('`$GITHUB_PATH`');
  });

  it('stays silent for unprivileged triggers, sanitized or literal values and quoted heredocs', () => {
    expect(runRule(envFileInjectionRule, workflow('pull_request', 'echo "PR_TITLE=$TITLE" >> "$GITHUB_ENV"'))).toEqual([]);
    const safe = workflow(
      'pull_request_target',
      "echo 'PR_TITLE=$TITLE' >> \"$GITHUB_ENV\"",
      'echo "SAFE=${TITLE//[^a-z]/}" >> "$GITHUB_ENV"',
      'echo "NUMBER=${{ github.event.pull_request.number }}" >> "$GITHUB_ENV"',
      "cat >> \"$GITHUB_ENV\" <<'EOF'",
      'LITERAL=$TITLE',
      'EOF',
      'echo "$TITLE" > title.txt',
    );
    expect(runRule(envFileInjectionRule, safe)).toEqual([]);
    const reassigned = workflow('pull_request_target', 'TITLE="$(printf %s "$TITLE" | tr -cd a-z)"', 'echo "T=$TITLE" >> "$GITHUB_ENV"');
    expect(runRule(envFileInjectionRule, reassigned)).toEqual([]);
  });

  it('honours event guards on the job', () => {
    const text = lines(
      'on: [push, issue_comment]',
      'jobs:',
      '  build:',
      "    if: github.event_name == 'push'",
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo "MSG=${{ github.event.comment.body }}" >> "$GITHUB_ENV"',
    );
    expect(runRule(envFileInjectionRule, text)).toEqual([]);
    expect(runRule(envFileInjectionRule, text.replace("    if: github.event_name == 'push'\n", ''))).toEqual([
      expect.objectContaining({ line: 6, column: 24, endColumn: 56 }),
    ]);
  });
});
