import { envFileInjectionRule } from '../../../../src/analysis/rules/security/env-file-injection';
import { repositoryFromFiles } from '../../../../src/analysis/discover';
import { analyzeRepository } from '../../../../src/analysis/engine';
import { allRules } from '../../../../src/analysis/rules';
import { fixRepository } from '../../../../src/fixes/fix-repository';
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

  it('offers a fix for a plain GITHUB_ENV line and explains why other writes have none', () => {
    const view = repositoryFromFiles(
      new Map([
        [
          '.github/workflows/ci.yml',
          workflow('pull_request_target', 'echo "PR_TITLE=$TITLE" >> "$GITHUB_ENV"', 'echo "NODE_OPTIONS=$TITLE" >> "$GITHUB_ENV"', 'echo "$TITLE" >> "$GITHUB_PATH"'),
        ],
      ]),
    );
    const findings = analyzeRepository(view, { rules: [envFileInjectionRule] }).findings;
    expect(findings).toEqual([
      expect.objectContaining({ fixable: true, fixSafety: 'safe' }),
      expect.objectContaining({ fixable: false, fixNote: expect.stringContaining('`NODE_OPTIONS` changes how later programs run') as unknown }),
      expect.objectContaining({ fixable: false, fixNote: expect.stringContaining('directory named by attacker text') as unknown }),
    ]);
  });

  it('fixes a pasted expression together with script-injection, once', async () => {
    const path = '.github/workflows/ci.yml';
    const input = lines('on: issues', 'jobs:', '  triage:', '    runs-on: ubuntu-latest', '    steps:', '      - run: echo "X=${{ github.event.issue.title }}" >> $GITHUB_ENV');
    const fix = (text: string) => fixRepository(repositoryFromFiles(new Map([[path, text]])), { rules: allRules, ruleIds: ['env-file-injection', 'script-injection'] });
    const outcome = await fix(input);
    expect(outcome.applied.map(({ finding, safety }) => [finding.ruleId, safety]).sort()).toEqual([
      ['env-file-injection', 'safe'],
      ['script-injection', 'safe'],
    ]);
    expect(outcome.unfixable).toEqual([]);
    const fixed = outcome.files[0]?.after ?? '';
    expect(fixed).toContain('ISSUE_TITLE: ${{ github.event.issue.title }}');
    expect(fixed).toContain('{ echo "X<<${delimiter}"; printf \'%s\\n\' "${ISSUE_TITLE}"; echo "${delimiter}"; } >> "$GITHUB_ENV"');
    expect((await fix(fixed)).files).toEqual([]);
  });

  it('stays silent for the multi-line form with a random delimiter, unless the name changes how programs run', () => {
    const write = (name: string): string => `{ echo "${name}<<\${delimiter}"; printf '%s\\n' "$TITLE"; echo "\${delimiter}"; } >> "$GITHUB_ENV"`;
    const random = 'delimiter="ghadelimiter_$(openssl rand -hex 16)" || exit 1';
    expect(runRule(envFileInjectionRule, workflow('pull_request_target', random, write('PR_TITLE')))).toEqual([]);
    expect(runRule(envFileInjectionRule, workflow('pull_request_target', `${random}; ${write('NODE_OPTIONS')}`))).toHaveLength(1);
    expect(runRule(envFileInjectionRule, workflow('pull_request_target', 'delimiter=EOF', write('PR_TITLE')))).toHaveLength(1);
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
