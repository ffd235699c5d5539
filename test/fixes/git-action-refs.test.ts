/**
 * The `git ls-remote` action ref resolver against local bare repositories standing in for GitHub (offline): tags
 * (lightweight and annotated), branches, SHA refs, missing repositories and refs, unsafe names, the cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repositoryFromFiles } from '../../src/analysis/discover';
import { actionRefLookupFor, parseLsRemote, RemoteRefCache, resolveActionRefs, unpinnedActionRefs } from '../../src/fixes/git-action-refs';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

let base: string;
/** Commits of the fake actions/checkout: the first release and the newest. */
let first: string;
let second: string;

beforeAll(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'wpa-action-refs-'));
  const work = path.join(base, 'work');
  mkdirSync(work);
  git(work, ['init', '-q', '-b', 'main']);
  git(work, ['commit', '-q', '--allow-empty', '-m', 'one']);
  first = git(work, ['rev-parse', 'HEAD']);
  git(work, ['tag', 'v1']);
  git(work, ['tag', '-a', 'v1.0.0', '-m', 'release 1.0.0']);
  git(work, ['tag', 'nightly']);
  git(work, ['commit', '-q', '--allow-empty', '-m', 'two']);
  second = git(work, ['rev-parse', 'HEAD']);
  git(work, ['tag', 'v2']);
  git(work, ['tag', 'v2.1']);
  git(work, ['tag', '-a', 'v2.1.3', '-m', 'release 2.1.3']);
  git(work, ['tag', '-a', 'v2.1.4-rc.1', '-m', 'pre-release']);
  git(work, ['branch', 'release/v2']);
  mkdirSync(path.join(base, 'actions'));
  git(base, ['clone', '-q', '--bare', work, path.join('actions', 'checkout.git')]);
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

const request = (ref: string, owner = 'actions', repo = 'checkout') => ({ owner, repo, ref });

describe('resolveActionRefs', () => {
  it('resolves tags, branches and SHAs to the commit and its most precise version tag', async () => {
    const lookup = await resolveActionRefs([request('v2')], { baseUrl: base, cache: new RemoteRefCache() });
    expect(lookup.resolve('actions', 'checkout', 'v2')).toEqual({ sha: second, version: 'v2.1.3' });
    expect(lookup.resolve('actions', 'checkout', 'v2.1')).toEqual({ sha: second, version: 'v2.1.3' });
    // An annotated tag resolves to its commit, not to the tag object.
    expect(lookup.resolve('actions', 'checkout', 'v1.0.0')).toEqual({ sha: first, version: 'v1.0.0' });
    expect(lookup.resolve('actions', 'checkout', 'v1')).toEqual({ sha: first, version: 'v1.0.0' });
    expect(lookup.resolve('actions', 'checkout', 'main')).toEqual({ sha: second, version: 'v2.1.3' });
    expect(lookup.resolve('actions', 'checkout', 'release/v2')).toEqual({ sha: second, version: 'v2.1.3' });
    expect(lookup.resolve('actions', 'checkout', 'refs/tags/nightly')).toEqual({ sha: first, version: 'v1.0.0' });
    // Pinned already: only the version is looked up.
    expect(lookup.resolve('actions', 'checkout', first.toUpperCase())).toEqual({ sha: first, version: 'v1.0.0' });
    expect(lookup.resolve('actions', 'checkout', second.slice(0, 10))).toEqual({ sha: second, version: 'v2.1.3' });
    // Repository names are case-insensitive on GitHub.
    expect(lookup.resolve('Actions', 'Checkout', 'v2')).toEqual({ sha: second, version: 'v2.1.3' });
  });

  it('takes file:// base URLs too', async () => {
    const lookup = await resolveActionRefs([request('v1')], { baseUrl: `${pathToFileURL(base).href}/`, cache: new RemoteRefCache() });
    expect(lookup.resolve('actions', 'checkout', 'v1')).toEqual({ sha: first, version: 'v1.0.0' });
  });

  it('says why a ref does not resolve: unknown ref, missing repository, unsafe name, not asked for', async () => {
    const lookup = await resolveActionRefs([request('v9'), request('v1', 'actions', 'missing'), request('v1', '-x', 'y'), request('v1', 'a', '..')], {
      baseUrl: base,
      cache: new RemoteRefCache(),
    });
    expect(lookup.resolve('actions', 'checkout', 'v9')).toEqual({ unresolved: 'actions/checkout: there is no tag or branch `v9`' });
    expect(lookup.resolve('actions', 'missing', 'v1')).toEqual({ unresolved: 'actions/missing: the repository was not found' });
    expect(lookup.resolve('-x', 'y', 'v1')).toEqual({ unresolved: '-x/y: `-x` is not a valid GitHub owner name' });
    expect(lookup.resolve('a', '..', 'v1')).toEqual({ unresolved: 'a/..: `..` is not a valid GitHub repository name' });
    expect(lookup.resolve('other', 'repo', 'v1')).toEqual({ unresolved: 'other/repo was not looked up' });
  });

  it('refuses base URLs git must not be given', async () => {
    await expect(resolveActionRefs([request('v1')], { baseUrl: 'ext::sh -c touch% /tmp/pwned' })).rejects.toThrow(/ACTIONS_GIT_BASE_URL/);
  });

  it('times out instead of hanging and reports an unreachable host', async () => {
    // 192.0.2.0/24 is reserved for documentation: nothing answers there.
    const lookup = await resolveActionRefs([request('v1')], { baseUrl: 'https://192.0.2.1', timeoutMs: 300, cache: new RemoteRefCache() });
    expect(lookup.resolve('actions', 'checkout', 'v1')).toEqual({ unresolved: expect.stringMatching(/^actions\/checkout: /) as string });
  });

  it('lists each repository once and keeps listings for the TTL, within a bound', async () => {
    let now = 0;
    const cache = new RemoteRefCache(1, 1_000, () => now);
    let listings = 0;
    const list = () => {
      listings += 1;
      return Promise.resolve(parseLsRemote(`${first}\trefs/tags/v1\n`));
    };
    await Promise.all([cache.get('a', list), cache.get('a', list)]);
    expect(listings).toBe(1);
    now = 999;
    await cache.get('a', list);
    expect(listings).toBe(1);
    now = 1_000;
    await cache.get('a', list);
    expect(listings).toBe(2);
    await cache.get('b', list);
    await cache.get('a', list);
    expect(listings).toBe(4);
  });

  it('does not keep failed listings', async () => {
    const cache = new RemoteRefCache();
    await expect(cache.get('a', () => Promise.reject(new Error('offline')))).rejects.toThrow('offline');
    await expect(cache.get('a', () => Promise.resolve(parseLsRemote('')))).resolves.toEqual({ tags: new Map(), heads: new Map() });
  });
});

describe('actionRefLookupFor', () => {
  const workflow = [
    'on: push',
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-latest',
    '    steps:',
    '      - uses: actions/checkout@v2',
    '      - uses: actions/checkout@8e5e7e5ab8b370d6c329ec480221332ada57f0ab',
    '      - uses: ./local',
    '      - uses: docker://alpine:3',
    '      - uses: actions/checkout@v2',
    '  call:',
    '    uses: org/workflows/.github/workflows/ci.yml@main',
    '',
  ].join('\n');
  const files = repositoryFromFiles(new Map([['.github/workflows/ci.yml', workflow]])).workflowFiles;

  it('asks for each unpinned remote ref once', () => {
    expect(unpinnedActionRefs(files)).toEqual([request('v2'), request('main', 'org', 'workflows')]);
  });

  it('resolves only when unpinned-action fixes are selected', async () => {
    const settings = { actions: { gitBaseUrl: base } };
    const unselected = await actionRefLookupFor(files, settings, { ruleIds: ['missing-job-timeout'] });
    expect(unselected.resolve('actions', 'checkout', 'v2')).toEqual({ unresolved: expect.stringContaining('no resolver') as string });
    const selected = await actionRefLookupFor(files, settings, { ruleIds: ['unpinned-action'] });
    expect(selected.resolve('actions', 'checkout', 'v2')).toEqual({ sha: second, version: 'v2.1.3' });
  });
});
