import { hardcodedCredentialsRule } from '../../../../src/analysis/rules/security/hardcoded-credentials';
import { runRule } from '../../../support/analysis';

// Assembled at run time so this file never contains a scannable credential.
const githubToken = ['gh', 'p_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'].join('');

function job(lines: string[], steps: string[] = ['      - run: make']): string {
  return ['on: push', 'jobs:', '  build:', '    runs-on: ubuntu-latest', ...lines, '    steps:', ...steps, ''].join('\n');
}

describe('hardcoded-credentials', () => {
  it('reports a literal registry password of a container or service at the value, without repeating it', () => {
    const findings = runRule(
      hardcodedCredentialsRule,
      job([
        '    container:',
        '      image: ghcr.io/acme/build:1.4.2',
        '      credentials:',
        '        username: acme',
        '        password: hunter2hunter2',
        '    services:',
        '      cache:',
        '        image: ghcr.io/acme/cache:2',
        '        credentials:',
        '          username: acme',
        '          password: ${{ secrets.GHCR }}',
      ]),
    );
    expect(findings).toEqual([expect.objectContaining({ severity: 'high', line: 9, column: 19, endLine: 9, endColumn: 33 })]);
    expect(findings[0]?.message).not.toContain('hunter2');
    expect(findings[0]?.message).toContain('job `build` container');
  });

  it('reports known token formats in env values at the token itself, masked', () => {
    const findings = runRule(hardcodedCredentialsRule, job(['    env:', `      GH_TOKEN: "${githubToken}"`]));
    expect(findings).toEqual([expect.objectContaining({ line: 6, column: 18, endLine: 6, endColumn: 58 })]);
    expect(findings[0]?.message).toContain('`ghp_****`');
    expect(findings[0]?.message).not.toContain(githubToken);
  });

  it('reports tokens in scripts and comments too', () => {
    const findings = runRule(
      hardcodedCredentialsRule,
      job([`    # old token: ${githubToken}`], ['      - run: |', `          curl -H "Authorization: token ${githubToken}" https://api.github.com`]),
    );
    expect(findings.map((f) => [f.line, f.message.includes('in a comment')])).toEqual([
      [5, true],
      [8, false],
    ]);
  });

  it('reports credential-named inputs with generated-looking literal values', () => {
    const findings = runRule(
      hardcodedCredentialsRule,
      job([], ['      - uses: acme/deploy@v1', '        with:', '          api-key: 9fK2mQ7xL4pR8sT1vW6y', '          github-token: ${{ github.token }}']),
    );
    expect(findings).toEqual([expect.objectContaining({ line: 8, column: 20, endColumn: 40 })]);
    expect(findings[0]?.message).toContain('input `api-key`');
  });

  it('stays silent on test-database passwords, booleans, file paths and secrets references', () => {
    const text = job(
      ['    env:', '      POSTGRES_PASSWORD: postgres', '      DATABASE_URL: postgres://postgres:postgres@localhost:5432/test'],
      [
        '      - uses: acme/setup-db@v1',
        '        with:',
        '          password: postgres',
        "          generate-sas-token: 'true'",
        '          private-key: ./keys/deploy-2024-signing.pem',
        '          token: ${{ secrets.TOKEN }}',
      ],
    );
    expect(runRule(hardcodedCredentialsRule, text)).toEqual([]);
  });
});
