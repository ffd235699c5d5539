/**
 * The GitHub adapter against a local stand-in for GitHub's REST API that checks every request and every answer
 * against GitHub's published description (test/support/github-api-server.ts). GitHub itself is never reached.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import { ForgeCredential } from '../../src/forges/credentials';
import { type Forge, ForgeError } from '../../src/forges/forge';
import { createGithubForge } from '../../src/forges/github';
import { type FakeRepository, GithubApiServer, VIOLATION_STATUS } from '../support/github-api-server';
import { type DescriptionName, OpenApiDescription } from '../support/github-openapi';

let dotcom: OpenApiDescription;
let server: GithubApiServer;
/** The operations each description's stand-in was asked for, over the whole file, for the README check. */
const routesTried = new Map<DescriptionName, Set<string>>();

beforeAll(() => {
  dotcom = OpenApiDescription.load('api.github.com');
});

beforeEach(async () => {
  server = await GithubApiServer.start(dotcom);
});

afterEach(async () => {
  await server.stop();
  const tried = routesTried.get(server.description.name) ?? new Set<string>();
  server.routesTried().forEach((route) => tried.add(route));
  routesTried.set(server.description.name, tried);
  // Every request the adapter sent, and every answer the stand-in gave, fits GitHub's description.
  expect(server.violations).toEqual([]);
});

function tokenCredential(token: string, baseUrl = server.baseUrl): ForgeCredential {
  return new ForgeCredential('github-test', 'github', baseUrl, `${new URL(baseUrl).origin}/`, { kind: 'token', token });
}

function forgeFor(repository: FakeRepository, token: string, options: { timeoutMs?: number } = {}): Forge {
  return createGithubForge({ credential: tokenCredential(token), repository: { owner: repository.owner.login, name: repository.name }, request: options });
}

/** What a promise rejected with, which must be a ForgeError. */
async function forgeErrorOf(promise: Promise<unknown>): Promise<ForgeError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ForgeError)) throw new Error(`expected a ForgeError, got ${inspect(error)}`);
  return error;
}

describe('the OpenAPI-checked stand-in', () => {
  test('refuses requests that are not in GitHub’s description, with 599, and records them', async () => {
    const repository = server.addRepository('acme', 'widgets');
    const { token } = server.addUser('alice');
    const call = (method: string, url: string, body?: unknown) =>
      fetch(server.baseUrl + url, { method, headers: { authorization: `token ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

    expect((await call('GET', `/repos/acme/widgets/pulls?state=all`)).status).toBe(200);
    expect((await call('GET', `/repos/acme/widgets/no-such-thing`)).status).toBe(VIOLATION_STATUS);
    expect((await call('GET', `/repos/acme/widgets/pulls?state=everything`)).status).toBe(VIOLATION_STATUS);
    expect((await call('GET', `/repos/acme/widgets/pulls?colour=red`)).status).toBe(VIOLATION_STATUS);
    expect((await call('POST', `/repos/acme/widgets/pulls`, { title: 42, head: 'x', base: repository.defaultBranch })).status).toBe(VIOLATION_STATUS);
    expect((await call('PUT', `/repos/acme/widgets/pulls/one/merge`, {})).status).toBe(VIOLATION_STATUS);

    expect(server.violations.map((violation) => [violation.side, violation.problems.join('; ')])).toEqual([
      ['request', expect.stringContaining('GET /repos/acme/widgets/no-such-thing is no operation of api.github.com')],
      ['request', expect.stringContaining('query parameter state "everything": state must be equal to one of the allowed values')],
      ['request', 'query parameter colour is not one pulls/list takes'],
      ['request', 'request body: body/title must be string'],
      ['request', expect.stringContaining('path parameter pull_number "one": pull_number must be integer')],
    ]);
    server.violations.length = 0;
  });

  test('refuses to give answers that are not in GitHub’s description, with 599, and records them', async () => {
    const repository = server.addRepository('acme', 'widgets');
    const { token } = server.addUser('alice');
    const forge = forgeFor(repository, token);
    // A body that is no pull request, and a status pulls/get does not declare.
    server.failNext({ operationId: 'pulls/get', status: 200, message: 'not a pull request' });
    server.failNext({ operationId: 'pulls/get', status: 418, message: 'I am a teapot' });

    expect((await forgeErrorOf(forge.getPullRequest(1))).status).toBe(VIOLATION_STATUS);
    expect((await forgeErrorOf(forge.getPullRequest(1))).status).toBe(VIOLATION_STATUS);
    expect(server.violations.map((violation) => [violation.side, violation.problems.join('; ')])).toEqual([
      ['response', "response 200 of pulls/get: body must have required property '_links'"],
      ['response', 'status 418 is not declared for pulls/get (declared: 200, 304, 404, 406, 500, 503)'],
    ]);
    server.violations.length = 0;
  });
});

describe('with a token', () => {
  let repository: FakeRepository;
  let alice: { token: string };
  let bob: { token: string };

  beforeEach(() => {
    repository = server.addRepository('acme', 'widgets');
    alice = server.addUser('alice', { admin: true });
    bob = server.addUser('bob');
  });

  test('a pull request from opening to merge, with every step GitHub answers', async () => {
    const forge = forgeFor(repository, alice.token);
    const reviewer = forgeFor(repository, bob.token);
    const headSha = repository.pushBranch('wpa/pin-actions');
    const baseSha = repository.branches.get('main');
    repository.protect('main', { contexts: ['ci/build'], checks: ['lint'] });

    expect(forge.kind).toBe('github');
    expect(await forge.currentUser()).toBe('alice');
    expect(await forge.gitCredentials()).toEqual({ username: 'x-access-token', password: alice.token });
    expect(await forge.findPullRequest('wpa/pin-actions', 'main')).toBeUndefined();

    const opened = await forge.createPullRequest({ head: 'wpa/pin-actions', base: 'main', title: 'Pin actions', body: 'Pins **every** action.' });
    expect(opened).toEqual({
      number: 1,
      url: `${server.origin}/acme/widgets/pull/1`,
      state: 'open',
      title: 'Pin actions',
      author: 'alice',
      headBranch: 'wpa/pin-actions',
      headSha,
      baseBranch: 'main',
      mergeCommitSha: null,
      closedBy: null,
      labels: [],
    });
    await forge.addLabels(1, ['wpa', 'risk:low']);
    await forge.addLabels(1, []);
    await forge.addLabels(1, ['wpa']);
    expect(await forge.findPullRequest('wpa/pin-actions', 'main')).toEqual({ ...opened, labels: ['wpa', 'risk:low'] });
    expect([...repository.labels.keys()]).toEqual(['wpa', 'risk:low']);

    await reviewer.approve(1, 'Looks right.');
    expect(repository.reviews).toEqual([{ pullNumber: 1, state: 'APPROVED', body: 'Looks right.', author: 'bob', commitId: headSha }]);
    await forge.comment(1, 'Checks are running.');
    expect(repository.comments).toEqual([{ issueNumber: 1, body: 'Checks are running.', author: 'alice' }]);

    expect(await forge.requiredChecks('main')).toEqual(['ci/build', 'lint']);
    const request = { method: 'squash' as const, title: 'Pin actions (#1)', message: 'Pins every action.', headSha };
    repository.addStatus(headSha, { context: 'ci/build', state: 'pending' }, server.account('ci'));
    expect(await forge.merge(1, request)).toEqual({ merged: false, reason: 'Required status check "ci/build" is expected.' });
    repository.addStatus(headSha, { context: 'ci/build', state: 'success', description: 'Build passed', targetUrl: 'https://ci.example/1' }, server.account('ci'));
    repository.addCheckRun(headSha, { name: 'lint', status: 'completed', conclusion: 'failure', title: '2 problems' });
    expect(await forge.merge(1, request)).toEqual({ merged: false, reason: 'Required status check "lint" is failing.' });
    repository.addCheckRun(headSha, { name: 'lint', status: 'completed', conclusion: 'success' });
    expect(await forge.commitChecks(headSha)).toEqual([
      { name: 'ci/build', state: 'success', source: 'status', description: 'Build passed', url: 'https://ci.example/1' },
      { name: 'lint', state: 'success', source: 'check-run', description: 'success', url: expect.stringContaining('/acme/widgets/runs/') },
    ]);

    expect(await forge.merge(1, { ...request, headSha: baseSha ?? '' })).toEqual({ merged: false, reason: 'Head branch was modified. Review and try the merge again.' });
    const merged = await forge.merge(1, request);
    expect(merged).toEqual({ merged: true, mergeCommitSha: repository.branches.get('main') });
    if (!merged.merged) throw new Error('not merged');
    // A squash has the base as its only parent; the message is the title and body given.
    expect(await forge.commitParents(merged.mergeCommitSha)).toEqual([baseSha]);
    expect(repository.commits.get(merged.mergeCommitSha)?.message).toBe('Pin actions (#1)\n\nPins every action.');
    expect(await forge.getPullRequest(1)).toEqual({ ...opened, state: 'merged', mergeCommitSha: merged.mergeCommitSha, closedBy: 'alice', labels: ['wpa', 'risk:low'] });
    expect(await forge.merge(1, request)).toEqual({ merged: false, reason: 'Pull Request is not mergeable' });
  });

  test('merge methods: a merge commit has the base and the head as parents; a rebase sends no title or message', async () => {
    const forge = forgeFor(repository, alice.token);
    const firstHead = repository.pushBranch('one');
    await forge.createPullRequest({ head: 'one', base: 'main', title: 'One', body: '' });
    const baseSha = repository.branches.get('main');
    const merged = await forge.merge(1, { method: 'merge', title: 'Merge one', message: 'The first', headSha: firstHead });
    if (!merged.merged) throw new Error('not merged');
    expect(await forge.commitParents(merged.mergeCommitSha)).toEqual([baseSha, firstHead]);

    const secondHead = repository.pushBranch('two');
    await forge.createPullRequest({ head: 'two', base: 'main', title: 'Two', body: '' });
    expect(await forge.merge(2, { method: 'rebase', title: 'ignored', message: 'ignored', headSha: secondHead })).toEqual({ merged: true, mergeCommitSha: expect.any(String) });
    const mergeRequest = server.requests.filter((request) => request.route?.operationId === 'pulls/merge').at(-1);
    expect(mergeRequest?.rawUrl).toBe('/repos/acme/widgets/pulls/2/merge');
    expect(repository.commits.get(repository.branches.get('main') ?? '')?.message).toBe('Merge pull request #2 from acme/two');
  });

  test('closing: with a comment first; who closed it comes from the issue, since a closed pull request does not say', async () => {
    const forge = forgeFor(repository, alice.token);
    repository.pushBranch('one');
    repository.pushBranch('two');
    await forge.createPullRequest({ head: 'one', base: 'main', title: 'One', body: '' });
    await forge.createPullRequest({ head: 'two', base: 'main', title: 'Two', body: '' });

    await forge.close(1, 'Superseded by #2.');
    expect(repository.comments).toEqual([{ issueNumber: 1, body: 'Superseded by #2.', author: 'alice' }]);
    expect(await forge.getPullRequest(1)).toMatchObject({ state: 'closed', closedBy: 'alice', mergeCommitSha: null });
    await forge.close(2);
    expect(repository.comments).toHaveLength(1);

    repository.pushBranch('three');
    await forge.createPullRequest({ head: 'three', base: 'main', title: 'Three', body: '' });
    repository.closeOnWeb(3, server.account('bob'));
    expect(await forge.getPullRequest(3)).toMatchObject({ state: 'closed', closedBy: 'bob' });
    expect(server.routesTried()).toContain('GET /repos/{owner}/{repo}/issues/{issue_number}');
  });

  test('findPullRequest gives the newest pull request of the branch pair, in any state', async () => {
    const forge = forgeFor(repository, alice.token);
    repository.pushBranch('fix');
    repository.pushBranch('other');
    await forge.createPullRequest({ head: 'fix', base: 'main', title: 'First try', body: '' });
    await forge.close(1);
    await forge.createPullRequest({ head: 'other', base: 'main', title: 'Unrelated', body: '' });
    await forge.createPullRequest({ head: 'fix', base: 'main', title: 'Second try', body: '' });

    expect(await forge.findPullRequest('fix', 'main')).toMatchObject({ number: 3, title: 'Second try', state: 'open' });
    expect(await forge.findPullRequest('fix', 'release')).toBeUndefined();
    const list = server.requests.find((request) => request.route?.operationId === 'pulls/list');
    expect(new URL(list?.rawUrl ?? '', server.origin).searchParams.get('head')).toBe('acme:fix');
  });

  test('commitChecks: the newest status of each context and the newest run of each check, over several pages', async () => {
    const forge = forgeFor(repository, alice.token);
    const sha = repository.pushBranch('checks');
    const ci = server.account('ci');
    // 120 older statuses spill onto a second page of 100.
    for (let index = 0; index < 120; index += 1) repository.addStatus(sha, { context: `old/${index % 3}`, state: 'success' }, ci);
    repository.addStatus(sha, { context: 'build', state: 'success' }, ci);
    repository.addStatus(sha, { context: 'build', state: 'failure', description: 'Build\nfailed' }, ci);
    repository.addStatus(sha, { context: 'deploy', state: 'error', description: 'Crashed' }, ci);
    repository.addStatus(sha, { context: 'review', state: 'pending' }, ci);
    const runs = [
      ['queued', undefined],
      ['in_progress', undefined],
      ['waiting', undefined],
      ['requested', undefined],
      ['pending', undefined],
      ['completed', 'success'],
      ['completed', 'neutral'],
      ['completed', 'skipped'],
      ['completed', 'failure'],
      ['completed', 'cancelled'],
      ['completed', 'timed_out'],
      ['completed', 'action_required'],
    ] as const;
    for (const [status, conclusion] of runs) repository.addCheckRun(sha, { name: `run ${status} ${conclusion ?? ''}`.trim(), status, conclusion });
    repository.addCheckRun(sha, { name: 'tests', status: 'completed', conclusion: 'failure' });
    repository.addCheckRun(sha, { name: 'tests', status: 'in_progress' });

    const checks = await forge.commitChecks(sha);
    const states = Object.fromEntries(checks.map((check) => [`${check.source} ${check.name}`, check.state]));
    expect(states).toEqual({
      'status build': 'failure',
      'status deploy': 'failure',
      'status review': 'pending',
      'status old/0': 'success',
      'status old/1': 'success',
      'status old/2': 'success',
      'check-run run queued': 'pending',
      'check-run run in_progress': 'pending',
      'check-run run waiting': 'pending',
      'check-run run requested': 'pending',
      'check-run run pending': 'pending',
      'check-run run completed success': 'success',
      'check-run run completed neutral': 'success',
      'check-run run completed skipped': 'success',
      'check-run run completed failure': 'failure',
      'check-run run completed cancelled': 'failure',
      'check-run run completed timed_out': 'failure',
      'check-run run completed action_required': 'failure',
      'check-run tests': 'pending',
    });
    expect(checks.find((check) => check.name === 'build')).toEqual({ name: 'build', state: 'failure', source: 'status', description: 'Build failed', url: null });
    expect(server.requests.filter((request) => request.route?.operationId === 'repos/list-commit-statuses-for-ref')).toHaveLength(2);
  });

  test('requiredChecks: none when the branch is not protected, undefined when the credential may not read protection', async () => {
    expect(await forgeFor(repository, alice.token).requiredChecks('main')).toEqual([]);
    repository.protect('main', { contexts: [] });
    expect(await forgeFor(repository, alice.token).requiredChecks('main')).toEqual([]);
    repository.protect('main', { contexts: ['build', 'lint'], checks: ['lint', 'codeql'] });
    expect(await forgeFor(repository, alice.token).requiredChecks('main')).toEqual(['build', 'lint', 'codeql']);
    // GitHub hides branch protection from accounts that are not admins behind a 404.
    expect(await forgeFor(repository, bob.token).requiredChecks('main')).toBeUndefined();
  });

  test('errors name the operation and carry GitHub’s words; only trouble that may pass is retryable', async () => {
    const forge = forgeFor(repository, alice.token);
    repository.pushBranch('fix');
    await forge.createPullRequest({ head: 'fix', base: 'main', title: 'Fix', body: '' });

    const missing = await forgeErrorOf(forge.getPullRequest(99));
    expect(missing).toMatchObject({ name: 'ForgeError', status: 404, retryable: false, message: 'GitHub: could not read pull request #99 in acme/widgets: 404 Not Found' });
    const duplicate = await forgeErrorOf(forge.createPullRequest({ head: 'fix', base: 'main', title: 'Again', body: '' }));
    expect(duplicate).toMatchObject({ status: 422, retryable: false, message: 'GitHub: could not open a pull request from fix into main in acme/widgets: 422 Validation Failed (A pull request already exists for acme:fix.)' });
    const ownApproval = await forgeErrorOf(forge.approve(1, 'Mine'));
    expect(ownApproval).toMatchObject({ status: 422, retryable: false, message: expect.stringContaining('Can not approve your own pull request') });
    expect(await forgeErrorOf(forge.commitParents('0'.repeat(40)))).toMatchObject({ status: 404, retryable: false });

    const failures: Array<{ status: number; retryable: boolean; message?: string; headers?: Record<string, string> }> = [
      { status: 500, retryable: true },
      { status: 503, retryable: true },
      { status: 429, retryable: true, message: 'You have exceeded a secondary rate limit.', headers: { 'retry-after': '60' } },
      { status: 403, retryable: true, message: 'You have exceeded a secondary rate limit.', headers: { 'retry-after': '60' } },
      { status: 403, retryable: true, message: 'API rate limit exceeded.', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1700000000' } },
      { status: 403, retryable: false, message: 'Resource not accessible by personal access token' },
    ];
    for (const { status, retryable, message, headers } of failures) {
      server.failNext({ operationId: 'pulls/get', status, message: message ?? 'Server Error', headers });
      expect(await forgeErrorOf(forge.getPullRequest(1))).toMatchObject({ status, retryable, message: `GitHub: could not read pull request #1 in acme/widgets: ${status} ${message ?? 'Server Error'}` });
    }
  });

  test('a bad credential is a 401 that is not retryable, and the token is in no message', async () => {
    const forge = forgeFor(repository, 'ghp_NotAValidTokenAtAll1234567890abcdef');
    const error = await forgeErrorOf(forge.currentUser());
    expect(error).toMatchObject({ status: 401, retryable: false, message: 'GitHub: could not read the account it acts as in acme/widgets: 401 Bad credentials' });

    // Even when GitHub's answer quotes the token back.
    const echoing = forgeFor(repository, alice.token);
    server.failNext({ operationId: 'pulls/get', status: 403, message: `token ${alice.token} may not do that` });
    const echoed = await forgeErrorOf(echoing.getPullRequest(1));
    expect(echoed.message).toBe('GitHub: could not read pull request #1 in acme/widgets: 403 token [redacted: GITHUB_TOKEN] may not do that');
    expect(inspect(echoed)).not.toContain(alice.token);
    expect(JSON.stringify(echoed)).not.toContain(alice.token);
  });

  test('no answer is retryable: a closed port, and a server that never answers within the timeout', async () => {
    const closed = await GithubApiServer.start(dotcom);
    await closed.stop();
    const refused = createGithubForge({ credential: tokenCredential(alice.token, closed.baseUrl), repository: { owner: 'acme', name: 'widgets' } });
    const refusedError = await forgeErrorOf(refused.getPullRequest(1));
    expect(refusedError).toMatchObject({ retryable: true, status: undefined, message: expect.stringMatching(/^GitHub: could not read pull request #1 in acme\/widgets: no answer \(.+\) from http:\/\/127\.0\.0\.1:\d+$/) });

    // Takes connections and never answers; closing it ends them, or close() would wait for them.
    const connections = new Set<Socket>();
    const silent: Server = createServer((socket) => connections.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const slow = createGithubForge({ credential: tokenCredential(alice.token, `http://127.0.0.1:${port}`), repository: { owner: 'acme', name: 'widgets' }, request: { timeoutMs: 300 } });
      expect(await forgeErrorOf(slow.getPullRequest(1))).toMatchObject({ retryable: true, message: `GitHub: could not read pull request #1 in acme/widgets: no answer within 300 ms from http://127.0.0.1:${port}` });
    } finally {
      connections.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('hostile names', () => {
  test('owner, repository and branch names with /, %2F, #, ?, spaces and unicode reach exactly the operation meant', async () => {
    const repository = server.addRepository('ow ner#?', '../wid%2Fgets名');
    const { token } = server.addUser('alice', { admin: true });
    const forge = forgeFor(repository, token);
    const branches = ['feature/../../main', 'a%2Fb', 'x#y?z=1&state=open', 'sp ace', 'ünï/cødé/名'];
    for (const branch of branches) {
      const sha = repository.pushBranch(branch);
      repository.protect(branch, { contexts: [`ci for ${branch}`] });
      const opened = await forge.createPullRequest({ head: branch, base: 'main', title: branch, body: '' });
      expect(opened).toMatchObject({ headBranch: branch, headSha: sha });
      expect(await forge.findPullRequest(branch, 'main')).toMatchObject({ number: opened.number, headBranch: branch });
      expect(await forge.requiredChecks(branch)).toEqual([`ci for ${branch}`]);
      expect(await forge.commitChecks(branch)).toEqual([]);
    }
    // A ref that climbs out of its path segment is sent as one segment: GitHub sees a commit that is not there.
    expect(await forgeErrorOf(forge.commitParents('../../../users/alice'))).toMatchObject({ status: 404 });

    const reached = server.requests.map((request) => [request.route?.operationId, request.pathParameters.owner, request.pathParameters.repo]);
    expect(reached.every(([, owner, repo]) => owner === 'ow ner#?' && repo === '../wid%2Fgets名')).toBe(true);
    const protections = server.requests.filter((request) => request.route?.operationId === 'repos/get-branch-protection').map((request) => request.pathParameters.branch);
    expect(protections).toEqual(branches);
    const commits = server.requests.filter((request) => request.route?.operationId === 'git/get-commit').map((request) => request.pathParameters.commit_sha);
    expect(commits).toEqual(['../../../users/alice']);
    const heads = server.requests.filter((request) => request.route?.operationId === 'pulls/list').map((request) => new URL(request.rawUrl, server.origin).searchParams.get('head'));
    expect(heads).toEqual(branches.map((branch) => `ow ner#?:${branch}`));
  });

  test('dot segments, which URL parsing would remove, are refused before anything is sent', async () => {
    const repository = server.addRepository('acme', 'widgets');
    const { token } = server.addUser('alice', { admin: true });
    const credential = tokenCredential(token);
    for (const name of ['..', '.', '']) {
      expect(() => createGithubForge({ credential, repository: { owner: 'acme', name } })).toThrow(ForgeError);
      expect(() => createGithubForge({ credential, repository: { owner: name, name: 'widgets' } })).toThrow(ForgeError);
    }
    const forge = forgeFor(repository, token);
    expect(await forgeErrorOf(forge.requiredChecks('..'))).toMatchObject({ retryable: false, message: 'GitHub: could not read the branch protection of .. in acme/widgets: branch ".." cannot be sent to GitHub: it is empty or a dot segment' });
    expect(await forgeErrorOf(forge.commitChecks('.'))).toMatchObject({ retryable: false });
    expect(await forgeErrorOf(forge.commitParents('..'))).toMatchObject({ retryable: false });
    expect(await forgeErrorOf(forge.getPullRequest(-1))).toMatchObject({ retryable: false, message: expect.stringContaining('pull request number -1 is not a positive integer') });
    expect(server.requests).toEqual([]);
  });
});

describe('as a GitHub App', () => {
  let repository: FakeRepository;
  let privateKey: string;
  let publicKey: KeyObject;
  let appId: number;
  let installationId: number;

  beforeAll(() => {
    // GitHub hands App keys out as PKCS#1 PEM.
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    privateKey = pair.privateKey;
    publicKey = createPublicKey(pair.publicKey);
  });

  beforeEach(() => {
    repository = server.addRepository('acme', 'widgets');
    const app = server.addApp('patch-bot', publicKey);
    appId = app.id;
    installationId = server.installApp(app, [repository], { contents: 'write', pull_requests: 'write', issues: 'write', statuses: 'read', checks: 'read', administration: 'read', metadata: 'read' });
  });

  function appForge(key = privateKey, installation: number | undefined = undefined, onWarning?: (message: string) => void): Forge {
    const credential = new ForgeCredential('github-app', 'github', server.baseUrl, `${server.origin}/`, { kind: 'github-app', appId: String(appId), privateKey: key, installationId: installation });
    return createGithubForge({ credential, repository: { owner: 'acme', name: 'widgets' }, onWarning });
  }

  test('finds its installation with the App JWT, acts as its bot with an installation token, and gives git that token', async () => {
    const forge = appForge();
    expect(await forge.currentUser()).toBe('patch-bot[bot]');
    repository.pushBranch('fix');
    expect(await forge.createPullRequest({ head: 'fix', base: 'main', title: 'Fix', body: '' })).toMatchObject({ author: 'patch-bot[bot]' });
    expect(await forge.requiredChecks('main')).toEqual([]);

    const [issued] = server.issuedInstallationTokens;
    expect(server.issuedInstallationTokens).toHaveLength(1);
    expect(issued?.installationId).toBe(installationId);
    expect(await forge.gitCredentials()).toEqual({ username: 'x-access-token', password: issued?.token });
    const operations = server.requests.map((request) => request.route?.operationId);
    expect(operations.slice(0, 3)).toEqual(['apps/get-repo-installation', 'apps/create-installation-access-token', 'apps/get-authenticated']);
    // The JWT went only to the App's own endpoints, the installation token to the rest.
    for (const request of server.requests) {
      const isAppEndpoint = request.route?.path.startsWith('/app') === true || request.route?.operationId === 'apps/get-repo-installation';
      expect(request.credential === issued?.token).toBe(!isAppEndpoint);
    }
  });

  test('an installation id in the credential skips the lookup', async () => {
    await appForge(privateKey, installationId).getPullRequest(1).catch(() => undefined);
    expect(server.requests.map((request) => request.route?.operationId)).toEqual(['apps/create-installation-access-token', 'pulls/get']);
  });

  test('one installation token serves while it has time left; once near its expires_at, a new one is fetched', async () => {
    const forge = appForge();
    repository.pushBranch('fix');
    await forge.createPullRequest({ head: 'fix', base: 'main', title: 'Fix', body: '' });
    await forge.getPullRequest(1);
    await forge.gitCredentials();
    expect(server.issuedInstallationTokens).toHaveLength(1);

    // The next token expires a second after the ten minutes the adapter wants left on one.
    server.installationTokenLifetimeMs = 10 * 60_000 + 1_000;
    const refreshing = appForge();
    await refreshing.getPullRequest(1);
    expect(server.issuedInstallationTokens).toHaveLength(2);
    await refreshing.getPullRequest(1);
    expect(server.issuedInstallationTokens).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { password } = await refreshing.gitCredentials();
    expect(server.issuedInstallationTokens).toHaveLength(3);
    expect(password).toBe(server.issuedInstallationTokens[2]?.token);
    await refreshing.getPullRequest(1);
    expect(server.requests.at(-1)?.credential).toBe(password);
  });

  test('a 401 just after a new installation token is tried again (GitHub may not know the token yet), with a warning', async () => {
    const warnings: string[] = [];
    const forge = appForge(privateKey, installationId, (message) => warnings.push(message));
    repository.pushBranch('fix');
    await forge.createPullRequest({ head: 'fix', base: 'main', title: 'Fix', body: '' });
    server.failNext({ operationId: 'pulls/get', status: 401, message: 'Bad credentials' });
    expect(await forge.getPullRequest(1)).toMatchObject({ number: 1, author: 'patch-bot[bot]' });
    expect(warnings).toEqual([expect.stringContaining('Retrying after 401 response to account for token replication delay')]);
  });

  test('not installed on the repository, or a key that is not the App’s: not retryable, and no key in the message', async () => {
    const other = server.addRepository('acme', 'other');
    const credential = new ForgeCredential('github-app', 'github', server.baseUrl, `${server.origin}/`, { kind: 'github-app', appId: String(appId), privateKey, installationId: undefined });
    const elsewhere = createGithubForge({ credential, repository: { owner: other.owner.login, name: other.name } });
    expect(await forgeErrorOf(elsewhere.getPullRequest(1))).toMatchObject({ status: 404, retryable: false, message: `GitHub: could not read pull request #1 in acme/other: GitHub App ${appId} is not installed on the repository (404 Not Found)` });

    const wrongKey = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
    const error = await forgeErrorOf(appForge(wrongKey).currentUser());
    expect(error).toMatchObject({ status: 401, retryable: false, message: expect.stringContaining('401 A JSON web token could not be decoded') });
    for (const text of [error.message, inspect(error), JSON.stringify(error)]) {
      expect(text).not.toContain(wrongKey);
      expect(text).not.toContain(wrongKey.split('\n')[1]);
    }

    // GitHub quoting the key or the installation token back is cleaned too.
    const forge = appForge();
    const { password } = await forge.gitCredentials();
    server.failNext({ operationId: 'pulls/get', status: 403, message: `token ${password} with key ${privateKey}` });
    const echoed = await forgeErrorOf(forge.getPullRequest(1));
    expect(echoed.message).toBe('GitHub: could not read pull request #1 in acme/widgets: 403 token [redacted: GITHUB_INSTALLATION_TOKEN_1] with key [redacted: GITHUB_APP_PRIVATE_KEY]');
  });

  test('an App without the administration permission may not read branch protection: undefined', async () => {
    const app = server.addApp('reader-bot', publicKey);
    const readerInstallation = server.installApp(app, [repository], { pull_requests: 'write', metadata: 'read' });
    const credential = new ForgeCredential('github-app', 'github', server.baseUrl, `${server.origin}/`, { kind: 'github-app', appId: String(app.id), privateKey, installationId: readerInstallation });
    const forge = createGithubForge({ credential, repository: { owner: 'acme', name: 'widgets' } });
    repository.protect('main', { contexts: ['build'] });
    expect(await forge.requiredChecks('main')).toBeUndefined();
  });
});

describe('on GitHub Enterprise Server (the ghes-3.19 description, under /api/v3)', () => {
  let ghes: GithubApiServer;
  let enterprise: OpenApiDescription;

  beforeAll(() => {
    enterprise = OpenApiDescription.load('ghes-3.19');
  });

  beforeEach(async () => {
    ghes = await GithubApiServer.start(enterprise);
  });

  afterEach(async () => {
    await ghes.stop();
    const tried = routesTried.get(ghes.description.name) ?? new Set<string>();
    ghes.routesTried().forEach((route) => tried.add(route));
    routesTried.set(ghes.description.name, tried);
    expect(ghes.violations).toEqual([]);
  });

  test('every method, with the API root https://host/api/v3', async () => {
    expect(ghes.baseUrl).toMatch(/\/api\/v3$/);
    const repository = ghes.addRepository('acme', 'widgets');
    const { token } = ghes.addUser('alice', { admin: true });
    const reviewer = ghes.addUser('bob');
    const credential = tokenCredential(token, ghes.baseUrl);
    const forge = createGithubForge({ credential, repository: { owner: 'acme', name: 'widgets' } });
    const headSha = repository.pushBranch('fix');
    repository.protect('main', { contexts: ['build'] });

    expect(await forge.currentUser()).toBe('alice');
    const opened = await forge.createPullRequest({ head: 'fix', base: 'main', title: 'Fix', body: 'Body' });
    expect(await forge.findPullRequest('fix', 'main')).toEqual(opened);
    await forge.addLabels(1, ['wpa']);
    await createGithubForge({ credential: tokenCredential(reviewer.token, ghes.baseUrl), repository: { owner: 'acme', name: 'widgets' } }).approve(1, 'Fine');
    await forge.comment(1, 'Merging when green.');
    expect(await forge.requiredChecks('main')).toEqual(['build']);
    expect(await forge.merge(1, { method: 'merge', title: 'Fix', message: '', headSha })).toEqual({ merged: false, reason: 'Required status check "build" is expected.' });
    repository.addStatus(headSha, { context: 'build', state: 'success' }, ghes.account('ci'));
    repository.addCheckRun(headSha, { name: 'lint', status: 'completed', conclusion: 'success' });
    expect((await forge.commitChecks(headSha)).map((check) => check.state)).toEqual(['success', 'success']);
    const merged = await forge.merge(1, { method: 'merge', title: 'Fix', message: '', headSha });
    if (!merged.merged) throw new Error('not merged');
    expect(await forge.commitParents(merged.mergeCommitSha)).toEqual([expect.any(String), headSha]);
    expect(await forge.getPullRequest(1)).toMatchObject({ state: 'merged', closedBy: 'alice', labels: ['wpa'] });
    repository.pushBranch('other');
    await forge.createPullRequest({ head: 'other', base: 'main', title: 'Other', body: '' });
    await forge.close(2, 'Not needed.');
    expect(await forge.getPullRequest(2)).toMatchObject({ state: 'closed', closedBy: 'alice' });
    expect(ghes.requests.every((request) => request.rawUrl.startsWith('/api/v3/'))).toBe(true);
  });
});

test('the README lists exactly the paths these tests tried against the stand-in', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const lists = [...routesTried.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([description, routes]) => [`Against the ${description} description:`, '', ...[...routes].sort().map((route) => `- \`${route}\``)].join('\n'));
  const expected = lists.join('\n\n');
  expect(readme).toContain(expected);
});
