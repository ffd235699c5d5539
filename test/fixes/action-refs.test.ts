/** The action ref resolver against real git: a local "forge" folder of <owner>/<repo> repositories. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkflowFile } from '../../src/analysis/parse';
import { parseLsRemote, preResolveActionRefs, remoteActionRefs } from '../../src/fixes/action-refs';

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout.trim();
}

const WORKFLOW = parseWorkflowFile(
  '.github/workflows/ci.yml',
  [
    'on: push',
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v4',
    '      - uses: actions/checkout@main',
    '      - uses: ./local',
    '      - uses: docker://alpine:3',
    '      - uses: ghost/missing@v1',
    '  call:',
    '    uses: actions/checkout/.github/workflows/reuse.yml@v4.2.1',
    '',
  ].join('\n'),
  'workflow',
);

describe('action refs', () => {
  let forge: string;
  let first: string;
  let second: string;

  beforeAll(() => {
    forge = mkdtempSync(join(tmpdir(), 'wpa-forge-'));
    const repo = join(forge, 'actions', 'checkout');
    mkdirSync(repo, { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'a'), '1');
    git(repo, 'add', 'a');
    git(repo, 'commit', '-q', '-m', 'one');
    first = git(repo, 'rev-parse', 'HEAD');
    git(repo, 'tag', '-a', 'v4.2.1', '-m', 'release');
    git(repo, 'tag', 'v4');
    git(repo, 'tag', 'v4.2');
    writeFileSync(join(repo, 'a'), '2');
    git(repo, 'commit', '-q', '-am', 'two');
    second = git(repo, 'rev-parse', 'HEAD');
  });
  afterAll(() => rmSync(forge, { recursive: true, force: true }));

  it('collects remote refs of steps and reusable workflow calls only', () => {
    expect(remoteActionRefs([WORKFLOW])).toEqual([
      { owner: 'actions', repo: 'checkout', ref: 'v4' },
      { owner: 'actions', repo: 'checkout', ref: 'main' },
      { owner: 'ghost', repo: 'missing', ref: 'v1' },
      { owner: 'actions', repo: 'checkout', ref: 'v4.2.1' },
    ]);
  });

  it('resolves tags (annotated ones to their commit), branches and SHAs with the most precise version tag', async () => {
    const lookup = await preResolveActionRefs([WORKFLOW], { baseUrl: forge, allowLocal: true });
    expect(lookup.resolve('actions', 'checkout', 'v4')).toEqual({ sha: first, version: 'v4.2.1' });
    expect(lookup.resolve('Actions', 'Checkout', 'v4.2.1')).toEqual({ sha: first, version: 'v4.2.1' });
    expect(lookup.resolve('actions', 'checkout', 'main')).toEqual({ sha: second });
    expect(lookup.resolve('actions', 'checkout', first)).toEqual({ sha: first, version: 'v4.2.1' });
    expect(lookup.resolve('actions', 'checkout', 'v9')).toEqual({ unresolved: 'actions/checkout has no tag or branch `v9`' });
    expect(lookup.resolve('ghost', 'missing', 'v1')).toEqual({ unresolved: expect.stringMatching(/^could not list the refs of ghost\/missing: /) });
    expect(lookup.resolve('other', 'action', 'v1')).toEqual({ unresolved: 'other/action was not listed before fixing' });
  });

  it('refuses local bases unless allowed', async () => {
    const lookup = await preResolveActionRefs([WORKFLOW], { baseUrl: forge });
    expect(lookup.resolve('actions', 'checkout', 'v4')).toEqual({ unresolved: expect.stringContaining('local repository') });
  });

  it('parses ls-remote output', () => {
    const sha = 'a'.repeat(40);
    const tagObject = 'b'.repeat(40);
    expect(parseLsRemote(`${sha}\trefs/heads/main\n${tagObject}\trefs/tags/v1\n${sha}\trefs/tags/v1^{}\n`)).toEqual({
      tags: new Map([['v1', sha]]),
      branches: new Map([['main', sha]]),
    });
  });
});
