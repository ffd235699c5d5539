import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { discoverRepository, normalizeRepoPath, repositoryFromFiles } from '../../src/analysis/discover';

describe('discoverRepository', () => {
  let root: string;
  let outside: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'wpa-discover-'));
    outside = mkdtempSync(join(tmpdir(), 'wpa-outside-'));
    const files: Record<string, string> = {
      '.github/workflows/ci.yml': 'on: push\njobs: {}\n',
      '.github/workflows/release.yaml': 'on: push\n',
      '.github/workflows/dev_pr/labeler.yml': 'CI: [ci/**]\n',
      '.github/workflows/README.md': '# not a workflow\n',
      '.github/actions/setup/action.yml': 'runs: { using: composite, steps: [] }\n',
      '.github/actions/deep/er/action.yaml': 'runs: { using: node20, main: index.js }\n',
      '.github/actions/setup/helper.yml': 'not: an action\n',
      '.github/dependabot.yml': 'version: 2\n',
      'package-lock.json': '{}\n',
      'broken/.keep': '',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    writeFileSync(join(outside, 'secret.yml'), 'on: push\n');
    symlinkSync(join(outside, 'secret.yml'), join(root, '.github/workflows/linked.yml'));
    symlinkSync(outside, join(root, '.github/workflows/linked-dir'));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  test('finds workflows, actions in nested folders, sorted; skips workflow sub-folders, symlinks and other files', () => {
    const view = discoverRepository(root, { firstPartyOwners: ['actions', 'My-Org'] });
    expect(view.workflowFiles.map((file) => [file.path, file.kind])).toEqual([
      ['.github/actions/deep/er/action.yaml', 'action'],
      ['.github/actions/setup/action.yml', 'action'],
      ['.github/workflows/ci.yml', 'workflow'],
      ['.github/workflows/release.yaml', 'workflow'],
    ]);
    expect(view.workflowFiles[2]?.text).toBe('on: push\njobs: {}\n');
    expect(view.firstPartyOwners).toEqual(['actions', 'my-org']);
    expect(discoverRepository(root).firstPartyOwners).toEqual(['actions', 'github']);
  });

  test('fileExists answers from the directory, for files only, never outside the root', () => {
    const view = discoverRepository(root);
    expect(view.fileExists('package-lock.json')).toBe(true);
    expect(view.fileExists('./.github/dependabot.yml')).toBe(true);
    expect(view.fileExists('yarn.lock')).toBe(false);
    expect(view.fileExists('broken')).toBe(false);
    expect(view.fileExists(`../${outside.split('/').pop() ?? ''}/secret.yml`)).toBe(false);
  });

  test('a directory without .github is an empty repository', () => {
    expect(discoverRepository(outside).workflowFiles).toEqual([]);
  });
});

describe('repositoryFromFiles', () => {
  test('parses CI files from memory and answers fileExists from the map and extra paths', () => {
    const view = repositoryFromFiles(
      new Map([
        ['.github/workflows/b.yml', 'on: push\n'],
        ['./.github/workflows/a.yml', 'on: [push\n'],
        ['go.sum', ''],
      ]),
      { existingPaths: ['pnpm-lock.yaml', '../escape'] },
    );
    expect(view.workflowFiles.map((file) => file.path)).toEqual(['.github/workflows/a.yml', '.github/workflows/b.yml']);
    expect(view.workflowFiles[0]?.doc.errors.length).toBeGreaterThan(0);
    expect(view.fileExists('go.sum')).toBe(true);
    expect(view.fileExists('pnpm-lock.yaml')).toBe(true);
    expect(view.fileExists('../escape')).toBe(false);
    expect(view.fileExists('.github/workflows/a.yml')).toBe(true);
    expect(view.firstPartyOwners).toEqual(['actions', 'github']);
  });

  test('normalizeRepoPath canonicalizes separators and rejects escapes', () => {
    expect(normalizeRepoPath('.\\.github\\workflows\\ci.yml')).toBe('.github/workflows/ci.yml');
    expect(normalizeRepoPath('a/../b')).toBe('b');
    expect(normalizeRepoPath('a/../../b')).toBeUndefined();
    expect(normalizeRepoPath('/etc/passwd')).toBeUndefined();
  });
});
