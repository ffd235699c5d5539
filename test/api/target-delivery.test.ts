/** Registering targets delivered by pull request: one validation at the door, with sentences a person understands. */
import request from 'supertest';
import { createTestApi, type TestApi } from '../support/api';

const CREDENTIALS = [
  'gitea-bot: { forge: gitea, baseUrl: "https://git.example.com", token: not-a-real-token }',
  'gh: { forge: github, baseUrl: "https://api.github.com", token: not-a-real-token }',
].join('\n');

describe('targets delivered by pull request', () => {
  let api: TestApi;
  let operator: string;
  beforeAll(async () => {
    api = await createTestApi({ env: { FORGE_CREDENTIALS: CREDENTIALS } });
    operator = await api.token(['operator'], 'olga');
  });
  afterAll(() => api.close());

  let counter = 0;
  const body = (extra: Record<string, unknown>) => ({ name: `org/pr-${(counter += 1)}`, repoUrl: 'https://git.example.com/org/api.git', ...extra });
  const register = (extra: Record<string, unknown>) => request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${operator}`).send(body(extra));

  it('stores the forge and the delivery with their defaults', async () => {
    const response = await register({ forge: { credential: 'gitea-bot', repository: 'org/api' }, delivery: { mode: 'pull-request' }, healthChecks: [{ type: 'ci-status' }] });
    expect(response.status).toBe(201);
    expect(response.body.forge).toEqual({ credential: 'gitea-bot', repository: 'org/api' });
    expect(response.body.delivery).toEqual({
      mode: 'pull-request',
      mergeMethod: 'merge',
      labels: ['workflow-patch-agent'],
      requiredChecks: 'all-required',
      checksTimeoutSeconds: 1800,
      approve: false,
      revert: 'pull-request',
    });
    expect(response.body.healthChecks).toEqual([{ type: 'ci-status', checks: 'all-required', timeoutSeconds: 600 }]);
    const stored = await request(api.app).get(`/api/v1/targets/${response.body.id}`).set('Authorization', `Bearer ${operator}`);
    expect(stored.body.delivery.mode).toBe('pull-request');
  });

  it('keeps push as the default delivery', async () => {
    const response = await register({});
    expect(response.status).toBe(201);
    expect(response.body.delivery).toEqual({ mode: 'push' });
    expect(response.body.forge).toBeUndefined();
  });

  it.each([
    ['pull-request delivery without a forge', { delivery: { mode: 'pull-request' } }, 'forge', /required for pull-request delivery/],
    ['a ci-status check without a forge', { healthChecks: [{ type: 'ci-status' }] }, 'healthChecks.0', /needs `forge`/],
    ['an unknown credential', { forge: { credential: 'nobody', repository: 'org/api' } }, 'forge.credential', /No forge credential named "nobody" is configured on this server \(known: gh, gitea-bot\)/],
    ['a repository on another server than the credential', { forge: { credential: 'gh', repository: 'org/api' } }, 'forge.credential', /must be on the credential's git server https:\/\/github.com\//],
    ['a repository name with a path', { forge: { credential: 'gitea-bot', repository: 'org/../x' } }, 'forge.repository', /owner\/name/],
    ['a dot-dot owner', { forge: { credential: 'gitea-bot', repository: '../api' } }, 'forge.repository', /"\." or "\.\."/],
    ['an unknown merge method', { forge: { credential: 'gitea-bot', repository: 'org/api' }, delivery: { mode: 'pull-request', mergeMethod: 'octopus' } }, 'delivery.mergeMethod', /one of "merge", "squash", "rebase"/],
    ['a checks time limit of a week', { forge: { credential: 'gitea-bot', repository: 'org/api' }, delivery: { mode: 'pull-request', checksTimeoutSeconds: 604800 } }, 'delivery.checksTimeoutSeconds', /21600/],
    ['a label with a comma', { forge: { credential: 'gitea-bot', repository: 'org/api' }, delivery: { mode: 'pull-request', labels: ['a,b'] } }, 'delivery.labels.0', /no commas/],
    ['an unknown delivery field', { forge: { credential: 'gitea-bot', repository: 'org/api' }, delivery: { mode: 'pull-request', force: true } }, 'delivery', /force/],
  ])('refuses %s with 422 naming the field', async (_case, extra, path, message) => {
    const before = await api.db.pool.query('SELECT count(*)::int AS n FROM targets');
    const response = await register(extra);
    expect(response.status).toBe(422);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    const problem = (response.body.errors as Array<{ path: string; message: string }>).find((entry) => entry.path === path);
    expect(problem?.message).toMatch(message);
    const after = await api.db.pool.query('SELECT count(*)::int AS n FROM targets');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });
});
