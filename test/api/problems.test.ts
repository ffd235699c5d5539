import request from 'supertest';
import { createTestApi, type TestApi } from '../support/api';

describe('bad input gets RFC 9457 problems, never a 500 or a stack trace', () => {
  let api: TestApi;
  let operator: string;
  beforeAll(async () => {
    api = await createTestApi();
    operator = await api.token(['operator']);
  });
  afterAll(async () => {
    await api.close();
  });

  const post = (body: string, contentType = 'application/json') =>
    request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${operator}`).set('Content-Type', contentType).send(body);

  function expectProblem(res: request.Response, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'about:blank', status, instance: expect.any(String), requestId: expect.any(String) });
    expect(typeof res.body.title).toBe('string');
    expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(js|ts):\d+/);
  }

  test('malformed JSON: 400', async () => {
    const res = await post('{"name": ');
    expectProblem(res, 400);
    expect(res.body.detail).toMatch(/not valid JSON/);
  });

  test('wrong content type: 415', async () => {
    expectProblem(await post('name=org/repo', 'application/x-www-form-urlencoded'), 415);
    expectProblem(await post('<target/>', 'text/xml'), 415);
  });

  test('a body over 1 MiB: 413', async () => {
    const huge = JSON.stringify({ name: 'org/repo', repoUrl: 'x'.repeat(1024 * 1024 + 10) });
    expectProblem(await post(huge), 413);
  });

  test('invalid fields: 422 listing each', async () => {
    const res = await post(JSON.stringify({ name: 'not a repo', repoUrl: '', healthChecks: [{ type: 'http', url: 'ftp://x/{sha}' }] }));
    expectProblem(res, 422);
    const paths = (res.body.errors as Array<{ path: string }>).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'repoUrl', 'healthChecks.0.url']));
  });

  test('unknown fields are refused rather than ignored', async () => {
    const res = await post(JSON.stringify({ name: 'org/repo', repoUrl: '/r.git', branchh: 'main' }));
    expectProblem(res, 422);
  });

  test('JSON that is not an object: 422', async () => {
    expectProblem(await post('[1,2,3]'), 422);
    expectProblem(await post('"text"'), 400);
  });

  test('a malformed id in the path: 400', async () => {
    const res = await request(api.app).get('/api/v1/targets/not-a-uuid').set('Authorization', `Bearer ${operator}`);
    expectProblem(res, 400);
  });

  test('an unknown target: 404', async () => {
    const res = await request(api.app).get('/api/v1/targets/7d4f8a56-3f8e-4d0c-9c53-4c1f7d0b8a11').set('Authorization', `Bearer ${operator}`);
    expectProblem(res, 404);
  });

  test('an unknown route: 404 problem', async () => {
    expectProblem(await request(api.app).get('/nowhere'), 404);
  });

  test('a duplicate target name: 409', async () => {
    const body = JSON.stringify({ name: 'org/dup', repoUrl: '/r.git' });
    expect((await post(body)).status).toBe(201);
    expectProblem(await post(body), 409);
  });

  test('every answer says: no sniffing, no framing, no scripts, no caching', async () => {
    for (const res of [await request(api.app).get('/nowhere'), await request(api.app).get('/healthz')]) {
      expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  test('a request id the client sends is echoed; a malformed one is replaced', async () => {
    const echoed = await request(api.app).get('/nowhere').set('X-Request-Id', 'abc-123');
    expect(echoed.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(api.app).get('/nowhere').set('X-Request-Id', 'bad id with spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('commands run repository code on the workers: admins only', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi();
  });
  afterAll(async () => {
    await api.close();
  });

  test.each([
    ['a command health check', { healthChecks: [{ type: 'command', argv: ['./check.sh'] }] }],
    ['a verify command', { verifyCommand: ['sh', '-c', 'env'] }],
    ['sandbox settings', { sandbox: { network: true } }],
  ])('%s: 403 for an operator, 201 for an admin', async (name, fields) => {
    const body = { name: `org/cmd-${name.replace(/ /g, '-')}`, repoUrl: '/r.git', ...fields };
    const asOperator = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${await api.token(['operator'])}`).send(body);
    expect(asOperator.status).toBe(403);
    expect(await api.db.pool.query('SELECT 1 FROM targets WHERE name = $1', [body.name])).toMatchObject({ rowCount: 0 });
    const asAdmin = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${await api.token(['admin'])}`).send(body);
    expect(asAdmin.status).toBe(201);
  });

  test('a command health check keeps its argv and gets the default timeout', async () => {
    const body = { name: 'org/cmd-defaults', repoUrl: '/r.git', healthChecks: [{ type: 'command', argv: ['./check.sh'] }] };
    const res = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${await api.token(['admin'])}`).send(body);
    expect(res.body.healthChecks).toEqual([{ type: 'command', argv: ['./check.sh'], timeoutMs: 5000 }]);
    expect(res.body.sandbox).toEqual({ network: false, env: {} });
  });

  test('the workflow-run stage is on by default and an operator may switch it off', async () => {
    const token = await api.token(['operator']);
    const byDefault = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${token}`).send({ name: 'org/workflow-run-on', repoUrl: '/r.git' });
    expect(byDefault.body.workflowRun).toBe(true);
    const off = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${token}`).send({ name: 'org/workflow-run-off', repoUrl: '/r.git', workflowRun: false });
    expect(off.status).toBe(201);
    const stored = await request(api.app).get(`/api/v1/targets/${String(off.body.id)}`).set('Authorization', `Bearer ${token}`);
    expect(stored.body.workflowRun).toBe(false);
  });

  test('the workflow-run event is push by default, may be another GitHub event, and anything else is refused naming the events', async () => {
    const token = await api.token(['operator']);
    const byDefault = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${token}`).send({ name: 'org/event-default', repoUrl: '/r.git' });
    expect(byDefault.body).toMatchObject({ workflowRunEvent: 'push', workflowRunCalledWorkflows: true });
    const chosen = await request(api.app)
      .post('/api/v1/targets')
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'org/event-chosen', repoUrl: '/r.git', workflowRunEvent: 'pull_request', workflowRunCalledWorkflows: false });
    expect(chosen.status).toBe(201);
    const stored = await request(api.app).get(`/api/v1/targets/${String(chosen.body.id)}`).set('Authorization', `Bearer ${token}`);
    expect(stored.body).toMatchObject({ workflowRunEvent: 'pull_request', workflowRunCalledWorkflows: false });
    for (const workflowRunEvent of ['workflow_call', 'PUSH', 'push; rm -rf /', '', 42]) {
      const refused = await request(api.app).post('/api/v1/targets').set('Authorization', `Bearer ${token}`).send({ name: 'org/event-bad', repoUrl: '/r.git', workflowRunEvent });
      expect(refused.status).toBe(422);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.stringify(refused.body)).toContain("must be one of GitHub's workflow events: branch_protection_rule");
    }
  });
});
