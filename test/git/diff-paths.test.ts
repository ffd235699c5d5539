import { changedFiles, InvalidDiffError, validateDiffPaths } from '../../src/git';

/** A one-hunk modification of `path` in git's format (`old`/`new` override the two names). */
function modify(path: string, names: { old?: string; new?: string } = {}): string {
  const oldName = names.old ?? `a/${path}`;
  const newName = names.new ?? `b/${path}`;
  return `diff --git ${oldName} ${newName}\nindex 1111111..2222222 100644\n--- ${oldName}\n+++ ${newName}\n@@ -1 +1 @@\n-old\n+new\n`;
}

const workflow = '.github/workflows/ci.yml';

const accepted: [string, string][] = [
  ['a modification', modify(workflow)],
  ['an added file', `diff --git a/${workflow} b/${workflow}\nnew file mode 100644\nindex 0000000..2222222\n--- /dev/null\n+++ b/${workflow}\n@@ -0,0 +1 @@\n+new\n`],
  ['a deleted file', `diff --git a/${workflow} b/${workflow}\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/${workflow}\n+++ /dev/null\n@@ -1 +0,0 @@\n-old\n`],
  ['an executable file', `diff --git a/ci.sh b/ci.sh\nold mode 100644\nnew mode 100755\n`],
  ['a rename with spaces', `diff --git a/.github/old name.yml b/.github/new name.yml\nsimilarity index 100%\nrename from .github/old name.yml\nrename to .github/new name.yml\n`],
  ['a quoted non-ASCII path', modify('', { old: '"a/.github/workflows/caf\\303\\251.yml"', new: '"b/.github/workflows/caf\\303\\251.yml"' })],
  ['a plain diff with timestamps', `--- a/${workflow}\t2024-01-01 00:00:00\n+++ b/${workflow}\t2024-01-02 00:00:00\n@@ -1 +1 @@\n-old\n+new\n`],
  ['header-like lines inside a hunk', `--- a/${workflow}\n+++ b/${workflow}\n@@ -1,2 +1,2 @@\n--- ../../etc/passwd\n+++ /etc/shadow\n-x\n+y\n`],
  ['CRLF line ends and commentary', `Subject: fix\r\n\r\n--- a/${workflow}\r\n+++ b/${workflow}\r\n@@ -1 +1 @@\r\n-old\r\n+new\r\n`],
  ['an empty context line and a no-newline marker', `--- a/${workflow}\n+++ b/${workflow}\n@@ -1,2 +1,2 @@\n\n-old\n\\ No newline at end of file\n+new\n\\ No newline at end of file\n`],
];

const refused: [string, string, string][] = [
  ['.. segment', modify('.github/../../outside.yml'), "'..' path segment"],
  ['. segment', modify('./.github/ci.yml'), "'.' path segment"],
  ['absolute path without prefix', `--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-a\n+b\n`, "path must start with 'a/'"],
  ['absolute path after prefix', modify('/etc/passwd'), 'absolute path'],
  ['drive letter path', modify('C:/Windows/win.ini'), 'absolute path'],
  ['empty segment', modify('.github//ci.yml'), 'empty path segment'],
  ['.git itself', modify('.git'), 'path inside .git'],
  ['a file in .git', modify('.git/config'), 'path inside .git'],
  ['a nested .git', modify('vendor/lib/.git/hooks/post-checkout'), 'path inside .git'],
  ['.GIT folded by case', modify('.GIT/config'), 'path inside .git'],
  ['.git with trailing dot', modify('.git./config'), 'path inside .git'],
  ['8.3 short name of .git', modify('GIT~1/config'), 'path inside .git'],
  ['backslash', modify('..\\..\\outside.yml'), 'backslash in path'],
  ['quoted newline in a name', modify('', { old: '"a/ci\\n.yml"', new: '"b/ci\\n.yml"' }), 'control character in path'],
  ['no a/ b/ prefix', `--- ${workflow}\n+++ ${workflow}\n@@ -1 +1 @@\n-a\n+b\n`, "path must start with 'a/'"],
  ['a new symlink', `diff --git a/link b/link\nnew file mode 120000\nindex 0000000..2222222\n--- /dev/null\n+++ b/link\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n`, 'symlinks are not allowed'],
  ['a file turned into a symlink', `diff --git a/ci.yml b/ci.yml\nold mode 100644\nnew mode 120000\n`, 'symlinks are not allowed'],
  ['a symlink edited in place', `diff --git a/link b/link\nindex 1111111..2222222 120000\n--- a/link\n+++ b/link\n@@ -1 +1 @@\n-x\n+y\n`, 'symlinks are not allowed'],
  ['a submodule', `diff --git a/sub b/sub\nnew file mode 160000\nindex 0000000..2222222\n--- /dev/null\n+++ b/sub\n@@ -0,0 +1 @@\n+Subproject commit 2222222222222222222222222222222222222222\n`, 'submodules are not allowed'],
  ['a rename out of the repository', `diff --git a/ci.yml b/ci.yml\nsimilarity index 100%\nrename from ci.yml\nrename to ../ci.yml\n`, "'..' path segment"],
  ['a copy into .git', `diff --git a/ci.yml b/.git/hooks/pre-commit\nsimilarity index 100%\ncopy from ci.yml\ncopy to .git/hooks/pre-commit\n`, 'path inside .git'],
  ['a binary patch', `diff --git a/logo.png b/logo.png\nindex 1111111..2222222 100644\nGIT binary patch\nliteral 1\nIcmZPo000310RR91\n`, 'binary patches are not allowed'],
  ['a combined diff', `diff --cc ${workflow}\nindex 1111111,2222222..3333333\n`, 'combined (merge) diffs are not supported'],
  ['a truncated hunk', `--- a/${workflow}\n+++ b/${workflow}\n@@ -1,3 +1,3 @@\n-old\n+new\n`, 'hunk is shorter than its header says'],
  ['a hunk without file header', `@@ -1 +1 @@\n-old\n+new\n`, 'hunk without ---/+++ file header'],
  ['an empty diff', '', 'the diff changes no file'],
  ['only commentary', 'just some text\n', 'the diff changes no file'],
];

describe('validateDiffPaths', () => {
  it.each(accepted)('accepts %s', (_label, diff) => {
    const result = validateDiffPaths(diff);
    expect(result).toMatchObject({ ok: true });
  });

  it.each(refused)('refuses %s', (_label, diff, reason) => {
    const result = validateDiffPaths(diff);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((problem) => problem.reason)).toContainEqual(expect.stringContaining(reason));
  });

  it('reports every problem with its line and path', () => {
    const diff = modify('.git/config') + modify('ok.yml') + modify('../x.yml');
    expect(validateDiffPaths(diff)).toEqual({
      ok: false,
      problems: [
        { line: 1, path: '.git/config', reason: 'path inside .git' },
        { line: 15, path: '../x.yml', reason: "'..' path segment" },
      ],
    });
  });
});

describe('changedFiles', () => {
  it('lists old and new paths with the kind of change', () => {
    const diff = accepted
      .filter(([label]) => ['a modification', 'an added file', 'a deleted file', 'a rename with spaces', 'a quoted non-ASCII path', 'an executable file'].includes(label))
      .map(([, text]) => text)
      .join('');
    expect(changedFiles(diff)).toEqual([
      { oldPath: workflow, newPath: workflow, status: 'modified', oldMode: '100644', newMode: '100644' },
      { oldPath: null, newPath: workflow, status: 'added', oldMode: null, newMode: '100644' },
      { oldPath: workflow, newPath: null, status: 'deleted', oldMode: '100644', newMode: null },
      { oldPath: 'ci.sh', newPath: 'ci.sh', status: 'modified', oldMode: '100644', newMode: '100755' },
      { oldPath: '.github/old name.yml', newPath: '.github/new name.yml', status: 'renamed', oldMode: null, newMode: null },
      { oldPath: '.github/workflows/café.yml', newPath: '.github/workflows/café.yml', status: 'modified', oldMode: '100644', newMode: '100644' },
    ]);
  });

  it('throws InvalidDiffError with the problems for a refused diff', () => {
    expect(() => changedFiles(modify('../x'))).toThrow(InvalidDiffError);
    expect(() => changedFiles(modify('../x'))).toThrow("line 1 (../x): '..' path segment");
  });
});
