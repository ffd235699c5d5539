import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { classifyRepoUrl, repoUrlProblem } from '../../src/git/repo-url';
import { commitSubjectProblem, isValidBranchName } from '../../src/git/validate';

const REMOTE_ONLY = { allowLocal: false };
const LOCAL_ALLOWED = { allowLocal: true };

describe('repository URLs', () => {
  test.each([
    ['https://github.com/org/repo.git', 'https'],
    ['https://ghe.example.com:8443/org/repo', 'https'],
    ['ssh://git@github.com/org/repo.git', 'ssh'],
    ['ssh://git@[2001:db8::1]:2222/org/repo.git', 'ssh'],
    ['git@github.com:org/repo.git', 'scp'],
    ['github.com:org/repo.git', 'scp'],
    ['http://127.0.0.1:3000/org/repo.git', 'http'],
    ['http://localhost/org/repo.git', 'http'],
    ['http://[::1]:3000/org/repo.git', 'http'],
  ])('accepts %s (%s)', (url, kind) => {
    expect(classifyRepoUrl(url, REMOTE_ONLY)).toEqual({ kind });
  });

  test.each([
    ['ext::sh -c touch% /tmp/pwned', 'remote-helper'],
    ['ext::sh', 'remote-helper'],
    ['fd::17', 'remote-helper'],
    ['transport::address', 'remote-helper'],
    ['--upload-pack=touch /tmp/pwned', 'must not start with "-"'],
    ['-oProxyCommand=touch /tmp/pwned', 'must not start with "-"'],
    ['ssh://-oProxyCommand=touch%20/tmp/pwned/repo', 'host name starting with "-"'],
    ['-host:repo.git', 'must not start with "-"'],
    ['user@-oProxyCommand=x:repo.git', 'host name starting with "-"'],
    ['ssh://-user@host/repo', 'user name starting with "-"'],
    ['git@host:-repo', 'repository path after the colon'],
    ['git://github.com/org/repo.git', 'git://'],
    ['ftp://example.com/repo.git', 'ftp://'],
    ['http://github.com/org/repo.git', 'plain http://'],
    ['https://user:token@github.com/org/repo.git', 'password or token'],
    ['https://token@github.com/org/repo.git', 'user name or token'],
    ['ssh://git:pw@github.com/org/repo.git', 'password or token'],
    ['https://github.com/org/repo.git\n--upload-pack=x', 'spaces or control characters'],
    ['https://github.com/org/ repo', 'spaces or control characters'],
    ['relative/path.git', 'absolute local path'],
    ['', 'must not be empty'],
  ])('refuses %j', (url, reason) => {
    expect(repoUrlProblem(url, LOCAL_ALLOWED)).toContain(reason);
  });

  test('local paths and file:// URLs only when the server allows them', () => {
    for (const url of ['/srv/git/repo.git', 'file:///srv/git/repo.git']) {
      expect(repoUrlProblem(url, REMOTE_ONLY)).toContain('ALLOW_LOCAL_REPOS');
      expect(repoUrlProblem(url, LOCAL_ALLOWED)).toBeUndefined();
    }
    expect(repoUrlProblem('file://otherhost/srv/repo.git', LOCAL_ALLOWED)).toContain('file:///path');
  });

  test('whatever the input, the answer is a kind or a sentence, never a crash', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (url) => {
        const verdict = classifyRepoUrl(url, REMOTE_ONLY);
        if ('kind' in verdict) expect(verdict.kind).not.toBe('path');
        else expect(verdict.problem.length).toBeGreaterThan(5);
      }),
      { numRuns: 2000 },
    );
  });
});

/** What git itself says of a branch name. */
function gitAccepts(branch: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', branch], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('branch names', () => {
  test.each(['main', 'release/1.x', 'feature/ü-umlaut', 'a.b', 'v1@2'])('accepts %j like git', (branch) => {
    expect(isValidBranchName(branch)).toBe(true);
    expect(gitAccepts(branch)).toBe(true);
  });

  test.each(['', '-x', '--upload-pack=x', 'a..b', 'a/', '/a', 'a//b', '.a', 'a/.b', 'a.lock', 'a/b.lock/c', 'a b', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', 'a@{1}', 'a.', 'a\u0000b', 'a\nb', 'a\u007f'])(
    'refuses %j like git',
    (branch) => {
      expect(isValidBranchName(branch)).toBe(false);
      if (!branch.includes('\u0000')) expect(gitAccepts(branch)).toBe(false);
    },
  );

  test('refuses "@", git\'s shorthand for HEAD, as a branch name', () => {
    expect(isValidBranchName('@')).toBe(false);
  });

  test('agrees with git check-ref-format --branch on generated names', () => {
    const piece = fc.constantFrom('a', 'Z', '0', '.', '/', '-', '@', '{', '}', '..', '.lock', ' ', '~', '^', ':', '?', '*', '[', '\\', '\t', 'é', '_');
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')), (branch) => {
        // git expands @{-N} and resolves "HEAD"-like names through the repository; neither is a plain name.
        // "@" alone is git's shorthand for HEAD, which `--branch` resolves; this service refuses it as a name.
        fc.pre(!branch.includes('@{') && branch !== 'HEAD' && branch !== '@');
        expect(isValidBranchName(branch)).toBe(gitAccepts(branch));
      }),
      { numRuns: 300 },
    );
  });
});

describe('commit subjects', () => {
  test.each([
    ['Add a job timeout', undefined],
    ['Approved-by: looks like a trailer but is the subject', undefined],
    ['x\n\nApproved-by: forged-ceo', 'one line'],
    ['--- hides the trailers', 'start of a patch'],
    [' padded', 'spaces'],
    ['', 'empty'],
  ])('%j', (subject, problem) => {
    const found = commitSubjectProblem(subject);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
