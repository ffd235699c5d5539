/**
 * The Gitea forge adapter against a real Gitea (test/support/gitea-server.ts), and against small stand-in servers
 * for what a real one will not do on request (5xx, 429, redirects, silence) and to see the exact request paths.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { ForgeCredential } from '../../src/forges/credentials';
import { type Forge, ForgeError, type MergeMethod, type MergeOutcome, type MergeRequest, type RepositoryName } from '../../src/forges/forge';
import { createGiteaForge } from '../../src/forges/gitea';
import { runGit } from '../../src/git/git-cli';
import { freePort } from '../../src/util/free-port';
import { git, writeFiles } from '../support/ci-run-fixtures';
import { type GiteaPerson, itWithGitea, useGiteaServer } from '../support/gitea-server';

const gitea = useGiteaServer();
const giteaIt = (name: string, test: () => Promise<void>, timeoutMs?: number): void => itWithGitea(name, gitea.unavailable, test, timeoutMs);

/** The token the stand-in servers are sent: as long and random as Gitea's. */
const FAKE_TOKEN = randomBytes(20).toString('hex');

/** Gitea checks a new pull request's mergeability in the background and refuses to merge until it has. */
const MERGEABILITY_WAIT_MS = 20_000;

let repositories = 0;

interface TestRepository {
  repository: RepositoryName;
  checkout: string;
  /** The initial commit on main. */
  headSha: string;
  forge: Forge;
}

async function newRepository(files: Record<string, string> = { 'README.md': '# test\n' }): Promise<TestRepository> {
  const server = gitea.server();
  repositories += 1;
  const created = await server.createRepository(server.admin, `repo-${repositories}`, files);
  return { ...created, forge: createGiteaForge({ credential: server.credential(), repository: created.repository }) };
}

/** Commits `files` on `branch` (made from `from`) in the checkout and pushes it as the admin; returns the commit. */
async function pushBranch(target: TestRepository, branch: string, files: Record<string, string>, from = 'main'): Promise<string> {
  git(target.checkout, 'checkout', '-q', '-B', branch, from);
  writeFiles(target.checkout, files);
  git(target.checkout, 'add', '-A');
  git(target.checkout, 'commit', '-qm', `change on ${branch}`);
  await gitea.server().pushAs(gitea.server().admin, target.repository, target.checkout, `+${branch}`);
  return git(target.checkout, 'rev-parse', 'HEAD').trim();
}

async function openPullRequest(target: TestRepository, branch: string, files: Record<string, string> = { [`${branch.replace(/\W/g, '-')}.txt`]: `${branch}\n` }) {
  const headSha = await pushBranch(target, branch, files);
  const pull = await target.forge.createPullRequest({ head: branch, base: 'main', title: `Change ${branch}`, body: 'Why: tests.' });
  return { pull, headSha };
}

/** Merges, asking again while Gitea has not yet checked whether the pull request is mergeable. */
async function mergeWhenChecked(forge: Forge, number: number, request: MergeRequest): Promise<MergeOutcome> {
  const deadline = Date.now() + MERGEABILITY_WAIT_MS;
  for (;;) {
    const outcome = await forge.merge(number, request);
    if (outcome.merged || !/try again later/i.test(outcome.reason) || Date.now() > deadline) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let reviewer: GiteaPerson | undefined;
async function theReviewer(): Promise<GiteaPerson> {
  reviewer ??= await gitea.server().createUser('reviewer');
  return reviewer;
}

async function branchHead(repository: RepositoryName, branch: string): Promise<string> {
  const found = (await gitea.server().api('GET', `/repos/${repository.owner}/${repository.name}/branches/${encodeURIComponent(branch)}`)) as { commit: { id: string } };
  return found.commit.id;
}

async function rejection(promise: Promise<unknown>): Promise<ForgeError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ForgeError)) throw new Error(`expected a ForgeError, got ${String(error)}`);
  return error;
}

describe('Gitea forge: the account and git credentials', () => {
  giteaIt('currentUser is the token’s account, and git pushes over HTTP with gitCredentials as basic credentials', async () => {
    const server = gitea.server();
    const target = await newRepository();
    expect(await target.forge.currentUser()).toBe(server.admin.login);
    const credentials = await target.forge.gitCredentials();
    expect(credentials).toEqual({ username: server.admin.login, password: server.admin.token });

    git(target.checkout, 'checkout', '-q', '-B', 'pushed-with-forge-credentials', 'main');
    writeFiles(target.checkout, { 'pushed.txt': 'pushed\n' });
    git(target.checkout, 'add', '-A');
    git(target.checkout, 'commit', '-qm', 'pushed');
    const credential = server.credential();
    const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    await runGit(target.checkout, ['push', '-q', `${credential.gitUrl}${target.repository.owner}/${target.repository.name}.git`, 'pushed-with-forge-credentials'], {
      config: { [`http.${credential.gitUrl}.extraHeader`]: `Authorization: Basic ${basic}` },
    });
    expect(await branchHead(target.repository, 'pushed-with-forge-credentials')).toBe(git(target.checkout, 'rev-parse', 'HEAD').trim());
  });
});

describe('Gitea forge: pull requests', () => {
  giteaIt('creates a pull request, reads it, and finds it again by head and base', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const { pull, headSha } = await openPullRequest(target, 'wpa/patch-1');
    expect(pull).toEqual({
      number: pull.number,
      url: `${server.url}/${target.repository.owner}/${target.repository.name}/pulls/${pull.number}`,
      state: 'open',
      title: 'Change wpa/patch-1',
      author: server.admin.login,
      headBranch: 'wpa/patch-1',
      headSha,
      baseBranch: 'main',
      mergeCommitSha: null,
      closedBy: null,
      labels: [],
    });
    expect(await target.forge.getPullRequest(pull.number)).toEqual(pull);
    expect(await target.forge.findPullRequest('wpa/patch-1', 'main')).toEqual(pull);
    expect(await target.forge.findPullRequest('wpa/patch-1', 'main')).toEqual(pull);
    expect(await target.forge.findPullRequest('wpa/patch-2', 'main')).toBeUndefined();
    expect(await target.forge.findPullRequest('wpa/patch-1', 'release')).toBeUndefined();

    const again = await rejection(target.forge.createPullRequest({ head: 'wpa/patch-1', base: 'main', title: 'again', body: '' }));
    expect(again.retryable).toBe(false);
    expect(again.message).toMatch(/^Gitea refused to create the pull request from wpa\/patch-1 into main in wpa-admin\/repo-\d+: 409 Conflict: /);
  });

  giteaIt('findPullRequest returns the newest of several from the same head, closed ones included', async () => {
    const target = await newRepository();
    const first = await openPullRequest(target, 'wpa/again');
    await target.forge.close(first.pull.number);
    expect(await target.forge.findPullRequest('wpa/again', 'main')).toMatchObject({ number: first.pull.number, state: 'closed' });
    const second = await target.forge.createPullRequest({ head: 'wpa/again', base: 'main', title: 'Second try', body: '' });
    expect(second.number).toBeGreaterThan(first.pull.number);
    expect(await target.forge.findPullRequest('wpa/again', 'main')).toMatchObject({ number: second.number, state: 'open' });
  });

  giteaIt('findPullRequest ignores a pull request from a fork’s branch of the same name', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const ours = await openPullRequest(target, 'wpa/shared-name');
    const person = await theReviewer();
    const fork = (await server.api('POST', `/repos/${target.repository.owner}/${target.repository.name}/forks`, { name: `${target.repository.name}-fork` }, person)) as { name: string };
    await server.pushAs(person, { owner: person.login, name: fork.name }, target.checkout, '+wpa/shared-name');
    await server.api('PATCH', `/repos/${target.repository.owner}/${target.repository.name}/pulls/${ours.pull.number}`, { state: 'closed' });
    const theirs = (await server.api('POST', `/repos/${target.repository.owner}/${target.repository.name}/pulls`, { head: `${person.login}:wpa/shared-name`, base: 'main', title: 'From the fork' }, person)) as { number: number };
    expect(theirs.number).toBeGreaterThan(ours.pull.number);
    expect(await target.forge.findPullRequest('wpa/shared-name', 'main')).toMatchObject({ number: ours.pull.number, state: 'closed' });
  });

  giteaIt('findPullRequest pages through many pull requests into the base', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const oldest = await openPullRequest(target, 'wpa/oldest');
    // Newer than the one looked for: more than the test server's page of 5.
    const others = Array.from({ length: 7 }, (_, index) => `other-${index}`);
    for (const branch of others) {
      git(target.checkout, 'checkout', '-q', '-B', branch, 'main');
      writeFiles(target.checkout, { [`${branch}.txt`]: `${branch}\n` });
      git(target.checkout, 'add', '-A');
      git(target.checkout, 'commit', '-qm', branch);
    }
    await server.pushAs(server.admin, target.repository, target.checkout, ...others);
    for (const branch of others) await target.forge.createPullRequest({ head: branch, base: 'main', title: branch, body: '' });
    expect(await target.forge.findPullRequest('wpa/oldest', 'main')).toMatchObject({ number: oldest.pull.number });
  });

  giteaIt('addLabels creates each missing label once and labels by id', async () => {
    const server = gitea.server();
    const target = await newRepository();
    // More than a page of the test server: the label looked for is on the second.
    const existing = Array.from({ length: 6 }, (_, index) => `existing-${index}`);
    for (const name of existing) await server.api('POST', `/repos/${target.repository.owner}/${target.repository.name}/labels`, { name, color: '#00aabb' });
    const one = await openPullRequest(target, 'wpa/labels-1');
    const two = await openPullRequest(target, 'wpa/labels-2');
    await target.forge.addLabels(one.pull.number, ['workflow-patch', 'security', 'workflow-patch']);
    await target.forge.addLabels(one.pull.number, ['security']);
    await target.forge.addLabels(two.pull.number, ['workflow-patch', 'ci: ünïcode & spaces']);
    await target.forge.addLabels(two.pull.number, []);
    await target.forge.addLabels(two.pull.number, ['existing-5']);
    const labels = (await server.api('GET', `/repos/${target.repository.owner}/${target.repository.name}/labels?limit=50`)) as Array<{ name: string }>;
    expect(labels.length).toBe(5);
    const allLabels = [...labels, ...((await server.api('GET', `/repos/${target.repository.owner}/${target.repository.name}/labels?page=2`)) as Array<{ name: string }>)];
    expect(allLabels.map((label) => label.name).sort()).toEqual(['ci: ünïcode & spaces', ...existing, 'security', 'workflow-patch']);
    expect((await target.forge.getPullRequest(one.pull.number)).labels.sort()).toEqual(['security', 'workflow-patch']);
    expect((await target.forge.getPullRequest(two.pull.number)).labels.sort()).toEqual(['ci: ünïcode & spaces', 'existing-5', 'workflow-patch']);
  });

  giteaIt('a second account approves; Gitea refuses the author’s own approval, which is not retryable', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const { pull } = await openPullRequest(target, 'wpa/approve');
    const person = await theReviewer();
    await server.addCollaborator(target.repository, person, 'write');
    await createGiteaForge({ credential: server.credential(person), repository: target.repository }).approve(pull.number, 'Looks right.');
    const reviews = (await server.api('GET', `/repos/${target.repository.owner}/${target.repository.name}/pulls/${pull.number}/reviews`)) as Array<{ state: string; body: string; user: { login: string } }>;
    expect(reviews.map((review) => ({ state: review.state, body: review.body, user: review.user.login }))).toEqual([{ state: 'APPROVED', body: 'Looks right.', user: person.login }]);

    const own = await rejection(target.forge.approve(pull.number, 'Mine.'));
    expect(own).toMatchObject({ retryable: false, status: 422 });
    expect(own.message).toBe(`Gitea refused to approve pull request #${pull.number} in ${target.repository.owner}/${target.repository.name}: 422 Unprocessable Entity: approve your own pull is not allowed`);
  });

  giteaIt('comment and close: the comment is there, and closedBy names the closer', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const { pull } = await openPullRequest(target, 'wpa/close');
    await target.forge.comment(pull.number, 'First **note**.');
    await target.forge.close(pull.number, 'Superseded by a newer patch.');
    const comments = (await server.api('GET', `/repos/${target.repository.owner}/${target.repository.name}/issues/${pull.number}/comments`)) as Array<{ body: string }>;
    expect(comments.map((comment) => comment.body)).toEqual(['First **note**.', 'Superseded by a newer patch.']);
    expect(await target.forge.getPullRequest(pull.number)).toMatchObject({ state: 'closed', closedBy: server.admin.login, mergeCommitSha: null });
  });

  giteaIt('closedBy of a pull request another person closed is that person', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const { pull } = await openPullRequest(target, 'wpa/closed-by-other');
    const person = await theReviewer();
    await server.addCollaborator(target.repository, person, 'write');
    // A timeline longer than a page, and an earlier close by someone else.
    await target.forge.close(pull.number);
    await server.api('PATCH', `/repos/${target.repository.owner}/${target.repository.name}/pulls/${pull.number}`, { state: 'open' });
    for (let index = 0; index < 6; index += 1) await target.forge.comment(pull.number, `note ${index}`);
    await server.closePullRequest(target.repository, pull.number, person);
    expect(await target.forge.getPullRequest(pull.number)).toMatchObject({ state: 'closed', closedBy: person.login });
    expect(await target.forge.findPullRequest('wpa/closed-by-other', 'main')).toMatchObject({ state: 'closed', closedBy: person.login });
  });
});

describe('Gitea forge: merging', () => {
  const methods: MergeMethod[] = ['merge', 'squash', 'rebase'];

  for (const method of methods) {
    giteaIt(`merges with the ${method} method and names the commit it made on main`, async () => {
      const server = gitea.server();
      const target = await newRepository();
      const { pull, headSha } = await openPullRequest(target, `wpa/${method}`, { 'patched.txt': `${method}\n` });
      // main moves on, so that every method makes a commit of its own.
      const mainBefore = await pushBranch(target, 'main', { 'unrelated.txt': 'unrelated\n' }, 'main');
      const outcome = await mergeWhenChecked(target.forge, pull.number, { method, title: `Merge ${method}`, message: 'Body of the merge.', headSha });
      if (!outcome.merged) throw new Error(`not merged: ${outcome.reason}`);
      const mainAfter = await branchHead(target.repository, 'main');
      expect(outcome.mergeCommitSha).toBe(mainAfter);
      const parents = await target.forge.commitParents(outcome.mergeCommitSha);
      if (method === 'merge') expect(parents).toEqual([mainBefore, headSha]);
      else expect(parents).toEqual([mainBefore]);
      expect(await target.forge.getPullRequest(pull.number)).toMatchObject({ state: 'merged', mergeCommitSha: outcome.mergeCommitSha, closedBy: server.admin.login });
      const commit = (await server.api('GET', `/repos/${target.repository.owner}/${target.repository.name}/git/commits/${outcome.mergeCommitSha}`)) as { commit: { message: string } };
      if (method === 'rebase') expect(commit.commit.message.trim()).toBe('change on wpa/rebase');
      else expect(commit.commit.message).toMatch(new RegExp(`^Merge ${method}\\n\\nBody of the merge\\.`));
      // Merging a merged pull request again answers with the same commit.
      expect(await target.forge.merge(pull.number, { method, title: 'again', message: '', headSha })).toEqual(outcome);
    });
  }

  giteaIt('refuses while a required status is pending and when the head moved; merges once checks pass', async () => {
    const server = gitea.server();
    const target = await newRepository();
    await server.protectBranch(target.repository, 'main', ['ci/test']);
    const { pull, headSha } = await openPullRequest(target, 'wpa/checked');
    await server.postCommitStatus(target.repository, headSha, 'ci/test', 'pending');
    const request: MergeRequest = { method: 'merge', title: 'Merge checked', message: '', headSha };
    const pending = await mergeWhenChecked(target.forge, pull.number, request);
    expect(pending).toEqual({ merged: false, reason: expect.stringMatching(/^Gitea refused \(405\): .*status check/i) });

    await server.postCommitStatus(target.repository, headSha, 'ci/test', 'success');
    const moved = await mergeWhenChecked(target.forge, pull.number, { ...request, headSha: target.headSha });
    expect(moved).toEqual({ merged: false, reason: 'Gitea refused (409): head out of date' });

    const merged = await mergeWhenChecked(target.forge, pull.number, request);
    expect(merged).toEqual({ merged: true, mergeCommitSha: await branchHead(target.repository, 'main') });
  });

  giteaIt('a closed pull request is not merged', async () => {
    const target = await newRepository();
    const { pull, headSha } = await openPullRequest(target, 'wpa/closed-then-merge');
    await target.forge.close(pull.number);
    expect(await target.forge.merge(pull.number, { method: 'merge', title: 't', message: '', headSha })).toEqual({ merged: false, reason: `pull request #${pull.number} is closed` });
  });
});

describe('Gitea forge: checks and commits', () => {
  giteaIt('commitChecks lists the latest status of each context, mapped to success, pending or failure', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const post = (context: string, state: Parameters<typeof server.postCommitStatus>[3]) => server.postCommitStatus(target.repository, target.headSha, context, state);
    expect(await target.forge.commitChecks(target.headSha)).toEqual([]);
    await post('ci/a', 'pending');
    await post('ci/a', 'success');
    await post('ci/b', 'success');
    await post('ci/b', 'failure');
    await post('ci/c', 'error');
    await post('ci/d', 'warning');
    await post('ci/e', 'skipped');
    await post('ci/f', 'pending');
    const checks = await target.forge.commitChecks(target.headSha);
    expect(checks.map((check) => [check.name, check.state]).sort()).toEqual([
      ['ci/a', 'success'],
      ['ci/b', 'failure'],
      ['ci/c', 'failure'],
      ['ci/d', 'failure'],
      ['ci/e', 'success'],
      ['ci/f', 'pending'],
    ]);
    expect(checks.find((check) => check.name === 'ci/a')).toEqual({ name: 'ci/a', state: 'success', source: 'status', description: 'ci/a is success', url: `${server.url}/ci/ci%2Fa` });
  });

  giteaIt('commitChecks pages through more contexts than one page holds', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const contexts = Array.from({ length: 12 }, (_, index) => `job-${String(index).padStart(2, '0')}`);
    for (const context of contexts) await server.postCommitStatus(target.repository, target.headSha, context, 'success');
    expect((await target.forge.commitChecks(target.headSha)).map((check) => check.name).sort()).toEqual(contexts);
  });

  giteaIt('requiredChecks: none unprotected or without a status check, the contexts of the matching rule, * for “every status”', async () => {
    const server = gitea.server();
    const target = await newRepository();
    const repoApi = `/repos/${target.repository.owner}/${target.repository.name}`;
    expect(await target.forge.requiredChecks('main')).toEqual([]);
    await server.protectBranch(target.repository, 'main');
    expect(await target.forge.requiredChecks('main')).toEqual([]);
    await server.api('PATCH', `${repoApi}/branch_protections/main`, { enable_status_check: true, status_check_contexts: ['ci/test', 'lint'] });
    expect(await target.forge.requiredChecks('main')).toEqual(['ci/test', 'lint']);

    await pushBranch(target, 'release/1.0', { 'release.txt': '1.0\n' });
    await server.api('POST', `${repoApi}/branch_protections`, { rule_name: 'release/*', enable_status_check: true, status_check_contexts: [] });
    expect(await target.forge.requiredChecks('release/1.0')).toEqual(['*']);

    // Reading the branch needs no admin right on the repository.
    const person = await theReviewer();
    await server.addCollaborator(target.repository, person, 'read');
    expect(await createGiteaForge({ credential: server.credential(person), repository: target.repository }).requiredChecks('main')).toEqual(['ci/test', 'lint']);

    // A token without the repository scope may not read it.
    const userOnly = await server.createToken(person, ['read:user']);
    const limited = createGiteaForge({ credential: server.credential({ ...person, token: userOnly }), repository: target.repository });
    expect(await limited.requiredChecks('main')).toBeUndefined();
  });

  giteaIt('commitParents lists a commit’s parents, first parent first', async () => {
    const target = await newRepository();
    expect(await target.forge.commitParents(target.headSha)).toEqual([]);
    const next = await pushBranch(target, 'next', { 'next.txt': 'next\n' });
    expect(await target.forge.commitParents(next)).toEqual([target.headSha]);
    const missing = await rejection(target.forge.commitParents('0'.repeat(40)));
    expect(missing).toMatchObject({ retryable: false, status: 404 });
  });
});

describe('Gitea forge: hostile names', () => {
  giteaIt('branch names with slashes, percent signs, # and unicode round-trip through the API', async () => {
    const target = await newRepository();
    const branch = 'wpa/ünï-cødé+%2F#1';
    const { pull } = await openPullRequest(target, branch, { 'unicode.txt': 'ü\n' });
    expect(pull.headBranch).toBe(branch);
    expect(await target.forge.findPullRequest(branch, 'main')).toMatchObject({ number: pull.number });
    expect(await target.forge.requiredChecks(branch)).toEqual([]);
    const unknown = await rejection(target.forge.requiredChecks('../../../main'));
    expect(unknown).toMatchObject({ status: 404, retryable: false });
  });

  giteaIt('a repository name with spaces or encoded slashes is a repository Gitea does not have', async () => {
    const server = gitea.server();
    const target = await newRepository();
    for (const name of [`${target.repository.name}%2F..`, `${target.repository.name} x`, `..%2F${target.repository.name}`]) {
      const forge = createGiteaForge({ credential: server.credential(), repository: { owner: target.repository.owner, name } });
      expect(await rejection(forge.getPullRequest(1))).toMatchObject({ status: 404, retryable: false });
    }
  });

  it('every name is one encoded path segment: nothing escapes /api/v1/repos/{owner}/{repo}/', async () => {
    const recorder = await startRecorder((_request, response) => sendJson(response, 404, { message: 'not here' }));
    try {
      const forge = createGiteaForge({ credential: credentialFor(recorder.url, FAKE_TOKEN), repository: { owner: '../../admin', name: 'x%2Fy z/ü' } });
      const calls: Array<Promise<unknown>> = [
        forge.getPullRequest(7),
        forge.requiredChecks('../../../../etc/passwd'),
        forge.commitChecks('a/../../b'),
        forge.commitParents('%2e%2e'),
        forge.findPullRequest('../x', '../../y?z#w'),
        forge.approve(3, 'ok'),
      ];
      for (const call of calls) expect(await rejection(call)).toMatchObject({ status: 404 });
      const prefix = '/api/v1/repos/..%2F..%2Fadmin/x%252Fy%20z%2F%C3%BC/';
      expect(recorder.paths.length).toBe(calls.length);
      for (const requested of recorder.paths) {
        expect(requested.startsWith(prefix)).toBe(true);
        expect(requested.slice(prefix.length).split('?')[0]?.split('/')).not.toContain('..');
      }
      expect(recorder.paths).toContain(`${prefix}branches/..%2F..%2F..%2F..%2Fetc%2Fpasswd`);
      expect(recorder.paths).toContain(`${prefix}pulls?state=all&base_branch=..%2F..%2Fy%3Fz%23w&page=1&limit=50`);
    } finally {
      await recorder.close();
    }
  });

  it('refuses the names . and .., which URL parsing would remove, before sending anything', async () => {
    const recorder = await startRecorder((_request, response) => sendJson(response, 200, {}));
    try {
      for (const repository of [{ owner: '..', name: 'r' }, { owner: 'o', name: '.' }]) {
        const forge = createGiteaForge({ credential: credentialFor(recorder.url, FAKE_TOKEN), repository });
        expect(await rejection(forge.getPullRequest(1))).toMatchObject({ retryable: false, status: undefined });
      }
      const forge = createGiteaForge({ credential: credentialFor(recorder.url, FAKE_TOKEN), repository: { owner: 'o', name: 'r' } });
      expect((await rejection(forge.requiredChecks('..'))).message).toBe('".." is not a valid name for Gitea');
      expect(await rejection(forge.getPullRequest(-1))).toMatchObject({ retryable: false });
      expect(recorder.paths).toEqual([]);
    } finally {
      await recorder.close();
    }
  });
});

describe('Gitea forge: errors', () => {
  /** Every way the error could show the token. */
  function expectNoToken(error: ForgeError, token: string): void {
    const cause = error.cause instanceof Error ? `${error.cause.message} ${error.cause.stack ?? ''}` : String(error.cause);
    for (const text of [error.message, error.stack ?? '', String(error), JSON.stringify(error), cause]) expect(text).not.toContain(token);
  }

  giteaIt('a wrong token, a wrong repository and an unreachable server: errors that say what failed, never with the token', async () => {
    const server = gitea.server();
    const target = await newRepository();

    const wrongToken = 'f'.repeat(40);
    const unauthorized = await rejection(createGiteaForge({ credential: credentialFor(server.url, wrongToken), repository: target.repository }).getPullRequest(1));
    expect(unauthorized).toMatchObject({ retryable: false, status: 401 });
    expect(unauthorized.message).toMatch(/^Gitea refused to read pull request #1 in wpa-admin\/repo-\d+: 401 Unauthorized: /);
    expectNoToken(unauthorized, wrongToken);

    const elsewhere = await rejection(createGiteaForge({ credential: server.credential(), repository: { owner: 'nobody', name: 'nothing' } }).findPullRequest('a', 'main'));
    expect(elsewhere).toMatchObject({ retryable: false, status: 404 });
    expect(elsewhere.message).toMatch(/^Gitea refused to list the pull requests into main in nobody\/nothing: 404 Not Found/);
    expectNoToken(elsewhere, server.admin.token);

    const closedPort = await freePort();
    const unreachable = await rejection(createGiteaForge({ credential: credentialFor(`http://127.0.0.1:${closedPort}`, server.admin.token), repository: target.repository }).currentUser());
    expect(unreachable).toMatchObject({ retryable: true, status: undefined });
    expect(unreachable.message).toBe(`Gitea at http://127.0.0.1:${closedPort} could not be reached to read the account the token belongs to: connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    expectNoToken(unreachable, server.admin.token);
  });

  it('5xx and 429 are retryable, with Gitea’s message; the token is redacted even when the server repeats it', async () => {
    const token = FAKE_TOKEN;
    let status = 503;
    const recorder = await startRecorder((request, response) => sendJson(response, status, { message: `overloaded, your header was ${request.headers.authorization ?? ''}` }));
    try {
      const forge = createGiteaForge({ credential: credentialFor(recorder.url, token), repository: { owner: 'o', name: 'r' } });
      const unavailable = await rejection(forge.comment(1, 'hi'));
      expect(unavailable).toMatchObject({ retryable: true, status: 503 });
      expect(unavailable.message).toBe('Gitea failed to comment on pull request #1 in o/r: 503 Service Unavailable: overloaded, your header was token [token]');
      expectNoToken(unavailable, token);
      status = 429;
      expect(await rejection(forge.comment(1, 'hi'))).toMatchObject({ retryable: true, status: 429 });
      status = 400;
      expect(await rejection(forge.comment(1, 'hi'))).toMatchObject({ retryable: false, status: 400 });
      expect(recorder.authorizations).toEqual([`token ${token}`, `token ${token}`, `token ${token}`]);
    } finally {
      await recorder.close();
    }
  });

  it('does not follow a redirect, so the token stays with the credential’s server', async () => {
    const elsewhere = await startRecorder((_request, response) => sendJson(response, 200, { login: 'elsewhere' }));
    const recorder = await startRecorder((_request, response) => {
      response.writeHead(301, { Location: `${elsewhere.url}/api/v1/user` });
      response.end();
    });
    try {
      const error = await rejection(createGiteaForge({ credential: credentialFor(recorder.url, FAKE_TOKEN), repository: { owner: 'o', name: 'r' } }).currentUser());
      expect(error).toMatchObject({ retryable: false, status: 301 });
      expect(error.message).toContain(`redirected the request to read the account the token belongs to to ${elsewhere.url}/api/v1/user`);
      expect(elsewhere.paths).toEqual([]);
    } finally {
      await Promise.all([recorder.close(), elsewhere.close()]);
    }
  });

  it('a server that does not answer within the timeout is a retryable error', async () => {
    const silent = await startSilentServer();
    try {
      const forge = createGiteaForge({ credential: credentialFor(silent.url, FAKE_TOKEN), repository: { owner: 'o', name: 'r' }, timeoutMs: 300 });
      const error = await rejection(forge.commitParents('abc'));
      expect(error).toMatchObject({ retryable: true, status: undefined });
      expect(error.message).toBe(`Gitea at ${silent.url} did not answer within 0.3 s when asked to read commit abc in o/r`);
    } finally {
      await silent.close();
    }
  });

  it('an answer without the fields used is a non-retryable error naming the field', async () => {
    const recorder = await startRecorder((_request, response) => sendJson(response, 200, { number: 1 }));
    try {
      const error = await rejection(createGiteaForge({ credential: credentialFor(recorder.url, FAKE_TOKEN), repository: { owner: 'o', name: 'r' } }).getPullRequest(1));
      expect(error).toMatchObject({ retryable: false, status: 200 });
      expect(error.message).toMatch(/^Gitea's answer when asked to read pull request #1 in o\/r is not what was expected \(html_url: /);
    } finally {
      await recorder.close();
    }
  });

  it('refuses a credential of another forge', () => {
    const credential = new ForgeCredential('gh', 'github', 'https://api.github.com', 'https://github.com/', { kind: 'token', token: 't' });
    expect(() => createGiteaForge({ credential, repository: { owner: 'o', name: 'r' } })).toThrow('credential gh is a github credential, not a Gitea one');
  });
});

function credentialFor(baseUrl: string, token: string): ForgeCredential {
  return new ForgeCredential('test', 'gitea', baseUrl, `${baseUrl}/`, { kind: 'token', token });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** An HTTP server on loopback that records the raw path and Authorization header of every request. */
async function startRecorder(handle: (request: IncomingMessage, response: ServerResponse) => void) {
  const paths: string[] = [];
  const authorizations: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? '');
    authorizations.push(request.headers.authorization ?? '');
    request.resume();
    request.on('end', () => handle(request, response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    authorizations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A TCP server that accepts connections and never answers. */
async function startSilentServer() {
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
