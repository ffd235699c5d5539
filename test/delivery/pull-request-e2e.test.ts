/**
 * Pull-request delivery end to end on a real Gitea: repositories with protected main branches that require the
 * status `ci/test`, a test "CI" that posts statuses on the pull requests' head commits and on main, the real
 * lifecycle on a Temporal dev server. Green statuses merge wave 1; a red one in wave 2 rolls back with revert pull
 * requests; a person closing a pull request, or pushing to its branch, is reported as declined; worker SIGKILLs
 * while a pull request waits for its checks and while it is merged create no duplicates.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { type PullRequestDelivery, type Target } from '../../src/domain/types';
import type { RepositoryName } from '../../src/forges/forge';
import { createTarget } from '../../src/store/targets';
import { listAuditEvents } from '../../src/store/audit';
import { approveUpdate, patchStatusQuery } from '../../src/workflows/patch-lifecycle';
import { type GiteaPerson, type GiteaServer, itWithGitea, useGiteaServer } from '../support/gitea-server';
import { CI_WORKFLOW, createLifecycleHarness, type LifecycleHarness, type PatchHandle, until, waitForStatus } from '../support/lifecycle';
import { assertWorkerBuilt, spawnWorkerProcess } from '../support/worker-process';

jest.setTimeout(300_000);

const CI_CONTEXT = 'ci/test';
const FILES = { '.github/workflows/ci.yml': CI_WORKFLOW, Makefile: 'all:\n\ttrue\n' };

interface GiteaPullRequest {
  number: number;
  state: 'open' | 'closed';
  merged: boolean;
  title: string;
  head: { ref: string; sha: string };
  labels: Array<{ name: string }>;
}

describe('pull-request delivery on a real Gitea', () => {
  const gitea = useGiteaServer();
  let h: LifecycleHarness;
  let person: GiteaPerson;
  let repoCounter = 0;
  const children: ChildProcess[] = [];
  /** The test's CI: the state it posts on a head commit of a repository's pull requests (revert pull requests and main always pass). */
  const verdicts = new Map<string, 'success' | 'failure' | 'none'>();
  let ciTimer: NodeJS.Timeout | undefined;
  const watched: RepositoryName[] = [];

  const server = (): GiteaServer => gitea.server();
  const repoPath = (repository: RepositoryName) => `/repos/${repository.owner}/${repository.name}`;

  async function pullRequests(repository: RepositoryName): Promise<GiteaPullRequest[]> {
    return (await server().api('GET', `${repoPath(repository)}/pulls?state=all&limit=50`)) as GiteaPullRequest[];
  }

  async function postOnce(repository: RepositoryName, sha: string, state: 'success' | 'failure'): Promise<void> {
    const statuses = (await server().api('GET', `${repoPath(repository)}/commits/${sha}/statuses`)) as unknown[];
    if (statuses.length === 0) await server().postCommitStatus(repository, sha, CI_CONTEXT, state);
  }

  /** One round of the test's CI over every watched repository. */
  async function runCi(): Promise<void> {
    for (const repository of watched) {
      for (const pr of await pullRequests(repository)) {
        if (pr.state !== 'open') continue;
        const verdict = pr.head.ref.startsWith('wpa/revert-') ? 'success' : (verdicts.get(repository.name) ?? 'success');
        if (verdict !== 'none') await postOnce(repository, pr.head.sha, verdict);
      }
      const main = (await server().api('GET', `${repoPath(repository)}/branches/main`)) as { commit: { id: string } };
      await postOnce(repository, main.commit.id, 'success');
    }
  }

  beforeAll(async () => {
    if (gitea.unavailable() !== undefined) return;
    assertWorkerBuilt();
    const credentials = `gitea-bot: { forge: gitea, baseUrl: "${server().url}", token: "${server().admin.token}" }`;
    h = await createLifecycleHarness({ env: { FORGE_CREDENTIALS: credentials, FORGE_POLL_INTERVAL_MS: '200' } });
    person = await server().createUser('pat');
    const tick = () => {
      ciTimer = setTimeout(() => void runCi().catch(() => undefined).finally(() => ciTimer !== undefined && tick()), 200);
    };
    tick();
  }, 180_000);

  afterAll(async () => {
    const timer = ciTimer;
    ciTimer = undefined;
    clearTimeout(timer);
    for (const child of children) child.kill('SIGKILL');
    await h?.close();
  });

  const delivery = (overrides: Partial<PullRequestDelivery> = {}): PullRequestDelivery => ({
    mode: 'pull-request',
    mergeMethod: 'merge',
    labels: ['workflow-patch-agent', 'ci'],
    requiredChecks: [CI_CONTEXT],
    checksTimeoutSeconds: 120,
    approve: false,
    revert: 'pull-request',
    ...overrides,
  });

  /** Protected repositories on Gitea, registered as targets delivered by pull request and watched by their CI status. */
  async function giteaTargets(count: number, overrides: Partial<PullRequestDelivery> = {}, options: { private?: boolean } = {}): Promise<Array<Target & { repository: RepositoryName }>> {
    const targets: Array<Target & { repository: RepositoryName }> = [];
    for (let index = 0; index < count; index += 1) {
      const name = `fleet-${(repoCounter += 1)}`;
      const { repository } = await server().createRepository(server().admin, name, FILES);
      await server().protectBranch(repository, 'main', [CI_CONTEXT]);
      if (options.private === true) await server().api('PATCH', repoPath(repository), { private: true });
      watched.push(repository);
      const target = await createTarget(h.db.pool, {
        name: `${repository.owner}/${name}`,
        repoUrl: `${server().url}/${repository.owner}/${name}.git`,
        branch: 'main',
        healthChecks: [{ type: 'ci-status', checks: [CI_CONTEXT], timeoutSeconds: 30 }],
        verifyCommand: null,
        workflowRun: false,
        forge: { credential: 'gitea-bot', repository: `${repository.owner}/${name}` },
        delivery: delivery(overrides),
        createdBy: 'test',
      });
      targets.push({ ...target, repository });
    }
    return targets;
  }

  async function mainFile(repository: RepositoryName): Promise<string> {
    const file = (await server().api('GET', `${repoPath(repository)}/contents/.github/workflows/ci.yml?ref=main`)) as { content: string };
    return Buffer.from(file.content, 'base64').toString('utf8');
  }

  function patchCommits(repository: RepositoryName, patchId: string): string[] {
    const dir = mkdtempSync(path.join(h.scratch, 'inspect-'));
    const { login, token } = server().admin;
    const auth = `http.extraHeader=Authorization: Basic ${Buffer.from(`${login}:${token}`).toString('base64')}`;
    execFileSync('git', ['-c', auth, 'clone', '-q', `${server().url}/${repository.owner}/${repository.name}.git`, dir]);
    return execFileSync('git', ['log', '--format=%H %(trailers:key=Patch-Id,valueonly,separator=%x2C)', 'main'], { cwd: dir, encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes(patchId))
      .map((line) => line.split(' ')[0] ?? '');
  }

  async function approve(handle: PatchHandle): Promise<void> {
    await waitForStatus(handle, 'awaiting_approval', 180_000);
    await handle.executeUpdate(approveUpdate, { args: [{ guardian: 'gina', comment: null }] });
  }

  itWithGitea('merges wave 1 on green checks and rolls back with revert pull requests when a check turns red in wave 2', gitea.unavailable, async () => {
    const targets = await giteaTargets(3);
    const [first, second, third] = targets;
    if (!first || !second || !third) throw new Error('three targets expected');
    verdicts.set(second.repository.name, 'failure');
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 33 }, { percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const state = await h.runWorker(
      (async () => {
        await approve(handle);
        await handle.result();
        return handle.query(patchStatusQuery);
      })(),
    );
    expect(state.status).toBe('rolled_back');
    expect(state.statusReason).toMatch(/the checks failed on pull request #1 .*failed: ci\/test/);
    const byTarget = new Map(state.deployments.map((deployment) => [deployment.targetId, deployment]));
    expect(byTarget.get(first.id)).toMatchObject({ wave: 1, status: 'reverted', pullRequest: { number: 1 } });
    expect(byTarget.get(second.id)).toMatchObject({ wave: 2, status: 'skipped' });

    // Wave 1's pull request was merged and reverted by a second, merged pull request; wave 2's red one is closed.
    const firstPulls = await pullRequests(first.repository);
    expect(firstPulls.map((pr) => [pr.head.ref, pr.merged])).toEqual([
      [`wpa/revert-${spec.id}`, true],
      [`wpa/patch-${spec.id}`, true],
    ]);
    expect(firstPulls[1]?.labels.map((label) => label.name).sort()).toEqual(['ci', 'workflow-patch-agent']);
    expect(firstPulls[0]?.title).toBe(`Revert "${spec.title}"`);
    const secondPulls = await pullRequests(second.repository);
    expect(secondPulls.map((pr) => [pr.state, pr.merged])).toEqual([['closed', false]]);
    const comments = (await server().api('GET', `${repoPath(second.repository)}/issues/${secondPulls[0]?.number}/comments`)) as Array<{ body: string }>;
    expect(comments.map((comment) => comment.body).join('\n')).toMatch(/rolled back/);
    for (const target of targets) expect(await mainFile(target.repository)).toBe(CI_WORKFLOW);
    // The pull request's description is the patch report.
    const body = ((await server().api('GET', `${repoPath(first.repository)}/pulls/${firstPulls[1]?.number}`)) as { body: string }).body;
    expect(body).toContain(`# Patch report: ${spec.title}`);
    const stored = await h.db.pool.query<{ pull_request: { url: string } | null; revert_pull_request: { url: string } | null }>(
      'SELECT pull_request, revert_pull_request FROM deployments WHERE patch_id = $1 AND target_id = $2',
      [spec.id, first.id],
    );
    expect(stored.rows[0]?.pull_request?.url).toMatch(/\/pulls\/1$/);
    expect(stored.rows[0]?.revert_pull_request?.url).toMatch(/\/pulls\/2$/);
    const closed = await h.db.pool.query<{ pull_request: { url: string } | null; note: string | null }>('SELECT pull_request, note FROM deployments WHERE patch_id = $1 AND target_id = $2', [spec.id, second.id]);
    expect(closed.rows[0]).toMatchObject({ pull_request: { url: expect.stringMatching(/\/pulls\/1$/) }, note: 'pull request closed without merging by the rollback' });
  });

  itWithGitea('reports a pull request a person closed, and a branch a person pushed to, as declined and delivers the rest', gitea.unavailable, async () => {
    const targets = await giteaTargets(4, { mergeMethod: 'squash' });
    const [closedByPerson, changedByPerson] = targets;
    if (!closedByPerson || !changedByPerson) throw new Error('targets expected');
    await server().addCollaborator(closedByPerson.repository, person, 'write');
    verdicts.set(closedByPerson.repository.name, 'none');
    verdicts.set(changedByPerson.repository.name, 'none');
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const state = await h.runWorker(
      (async () => {
        await approve(handle);
        const [closing] = await until('the pull request to close', async () => {
          const open = (await pullRequests(closedByPerson.repository)).filter((pr) => pr.state === 'open');
          return open.length > 0 ? open : undefined;
        });
        await server().closePullRequest(closedByPerson.repository, closing?.number ?? 0, person);
        await until('the pull request to change', async () => ((await pullRequests(changedByPerson.repository)).length > 0 ? true : undefined));
        const checkout = mkdtempSync(path.join(h.scratch, 'person-'));
        execFileSync('git', ['clone', '-q', '-b', `wpa/patch-${spec.id}`, `${server().url}/${changedByPerson.repository.owner}/${changedByPerson.repository.name}.git`, checkout]);
        execFileSync('git', ['-c', 'user.name=Pat', '-c', 'user.email=pat@example.test', 'commit', '-q', '--allow-empty', '-m', 'my own take'], { cwd: checkout });
        await server().pushAs(server().admin, changedByPerson.repository, checkout, `HEAD:refs/heads/wpa/patch-${spec.id}`);
        await handle.result();
        return handle.query(patchStatusQuery);
      })(),
    );
    expect(state.status).toBe('deployed');
    const byTarget = new Map(state.deployments.map((deployment) => [deployment.targetId, deployment]));
    expect(byTarget.get(closedByPerson.id)).toMatchObject({ status: 'declined', error: expect.stringMatching(/was closed without merging by pat/) });
    expect(byTarget.get(changedByPerson.id)).toMatchObject({ status: 'declined', error: expect.stringMatching(/was changed by someone else/) });
    for (const target of targets.slice(2)) {
      expect(byTarget.get(target.id)?.status).toBe('deployed');
      expect(await mainFile(target.repository)).toContain('timeout-minutes: 15');
      // The squash commit carries the trailers: the branch itself says the patch is there.
      expect(patchCommits(target.repository, spec.id)).toHaveLength(1);
    }
    expect(await mainFile(closedByPerson.repository)).toBe(CI_WORKFLOW);
    const changedPulls = await pullRequests(changedByPerson.repository);
    expect(changedPulls.map((pr) => pr.state)).toEqual(['open']);
    const declined = (await listAuditEvents(h.db.pool, { subjectType: 'patch', subjectId: spec.id, limit: 1000 })).filter((event) => event.action === 'deployment.declined');
    expect(declined.map((event) => event.details.targetId).sort()).toEqual([closedByPerson.id, changedByPerson.id].sort());
  });

  itWithGitea('creates no duplicate branch, pull request or merge when the worker is killed while waiting for checks and while merging', gitea.unavailable, async () => {
    // Private: every clone (tests, the deploy, the health loop) reads them with the forge credential.
    const targets = await giteaTargets(2, {}, { private: true });
    for (const target of targets) verdicts.set(target.repository.name, 'none');
    const spec = await h.spec(targets, {
      rollout: { waves: [{ percent: 100 }], health: { intervalSeconds: 1, windowSeconds: 2, failureThreshold: 1 }, allowUnmonitored: false, parallelism: 4 },
    });
    const handle = await h.start(spec);
    const start = (): ChildProcess => {
      const child = spawnWorkerProcess(h, { env: { FORGE_CREDENTIALS: `gitea-bot: { forge: gitea, baseUrl: "${server().url}", token: "${server().admin.token}" }`, FORGE_POLL_INTERVAL_MS: '200' } });
      children.push(child);
      return child;
    };
    const kill = async (child: ChildProcess) => {
      child.kill('SIGKILL');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    };
    let worker = start();
    await approve(handle);
    // Both pull requests open and waiting for checks: the deploy activities are in flight.
    await until('both pull requests', async () => ((await Promise.all(targets.map((target) => pullRequests(target.repository)))).every((pulls) => pulls.length === 1) ? true : undefined));
    await kill(worker);
    worker = start();
    for (const target of targets) verdicts.set(target.repository.name, 'success');
    // Killed as soon as one is merged: the other merge, the rest of the deploy and the health loop are retried.
    await until('a merge', async () => ((await Promise.all(targets.map((target) => pullRequests(target.repository)))).some((pulls) => pulls.some((pr) => pr.merged)) ? true : undefined));
    await kill(worker);
    start();
    await handle.result();
    expect((await handle.query(patchStatusQuery)).status).toBe('deployed');
    for (const target of targets) {
      const pulls = await pullRequests(target.repository);
      expect(pulls.map((pr) => [pr.head.ref, pr.merged])).toEqual([[`wpa/patch-${spec.id}`, true]]);
      expect(patchCommits(target.repository, spec.id)).toHaveLength(1);
      expect(await mainFile(target.repository)).toContain('timeout-minutes: 15');
    }
  });
});
