import { createTwoFilesPatch } from 'diff';
import { scanAddedLinesForSecrets } from '../../src/patching/scan-diff-secrets';

// Realistic shapes, not real credentials.
const GITHUB_TOKEN = `ghp_${'R8x2Kq7LmN4pT9vW3yZ6bC1dF5gH0jS2aE7u'}`;
const KEY_BODY = 'MIIEowIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8Yx2Xq4kJ7fP0sLwN1bVcD5eR';
const PATH = '.github/workflows/release.yml';

const before = ['name: release', 'on: push', 'jobs:', '  publish:', '    runs-on: ubuntu-latest', '    steps:', '      - run: make publish', ''].join('\n');

function gitDiff(oldText: string, newText: string, path = PATH): string {
  return createTwoFilesPatch(`a/${path}`, `b/${path}`, oldText, newText);
}

describe('scanAddedLinesForSecrets', () => {
  it('finds a token on an added line with its line number, masked', () => {
    const after = before.replace('      - run: make publish', `      - run: make publish\n        env:\n          GH_TOKEN: ${GITHUB_TOKEN}`);
    const found = scanAddedLinesForSecrets(gitDiff(before, after));
    expect(found).toEqual([{ path: PATH, line: 9, patternId: 'github-token', description: 'GitHub token', masked: 'ghp_****' }]);
    expect(JSON.stringify(found)).not.toContain(GITHUB_TOKEN);
  });

  it('ignores tokens on removed and context lines', () => {
    const withToken = before.replace('make publish', `make publish --token ${GITHUB_TOKEN}`);
    expect(scanAddedLinesForSecrets(gitDiff(withToken, before))).toEqual([]);
    const contextOnly = withToken.replace('name: release', 'name: Release');
    expect(scanAddedLinesForSecrets(gitDiff(withToken, contextOnly))).toEqual([]);
  });

  it('ignores references to secrets and placeholders', () => {
    const after = before.replace('make publish', 'make publish --token ${{ secrets.GH_TOKEN }} --example ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    expect(scanAddedLinesForSecrets(gitDiff(before, after))).toEqual([]);
  });

  it('finds a private key spread over several added lines', () => {
    const script = ['      - run: |', '          cat > key.pem <<EOF', '          -----BEGIN RSA PRIVATE KEY-----', `          ${KEY_BODY}`, `          ${KEY_BODY}`, '          -----END RSA PRIVATE KEY-----', '          EOF'];
    const after = before.replace('      - run: make publish', script.join('\n'));
    const found = scanAddedLinesForSecrets(gitDiff(before, after));
    expect(found).toMatchObject([{ patternId: 'private-key', line: 9 }]);
  });

  it('reads multi-file git diffs and strips the b/ prefix', () => {
    const diff = [
      'diff --git a/README.md b/README.md',
      'index 1111111..2222222 100644',
      '--- a/README.md',
      '+++ b/README.md',
      '@@ -3,2 +3,3 @@',
      ' line three',
      '+++ a line that starts with plus signs',
      ' line four',
      'diff --git a/scripts/deploy.sh b/scripts/deploy.sh',
      'new file mode 100755',
      '--- /dev/null',
      '+++ b/scripts/deploy.sh',
      '@@ -0,0 +1,2 @@',
      '+#!/bin/sh',
      `+curl -H "Authorization: token ${GITHUB_TOKEN}" https://api.github.com/user`,
      '',
    ].join('\n');
    expect(scanAddedLinesForSecrets(diff)).toMatchObject([{ path: 'scripts/deploy.sh', line: 2, patternId: 'github-token' }]);
  });

  it('throws on a diff whose hunk counts do not add up', () => {
    const broken = ['--- a/x.yml', '+++ b/x.yml', '@@ -1,1 +1,5 @@', '-a', '+b', ''].join('\n');
    expect(() => scanAddedLinesForSecrets(broken)).toThrow();
  });
});
