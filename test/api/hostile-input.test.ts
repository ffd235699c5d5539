/**
 * Generated hostile strings (NUL and other control characters, CR/LF, bidirectional overrides, trailer lines,
 * lone surrogates, very long lines) in every string field of every POST route, against the real API over a real
 * database and a real Temporal dev server (no worker: accepted patches wait in Temporal). Whatever arrives: never
 * a 5xx, always problem+json for a refusal, nothing stored for a refused request, and an accepted value is stored
 * exactly as the route documents it (trimmed), nothing lost.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import fc from 'fast-check';
import request from 'supertest';
import { type DevServer, startDevServer } from '../../src/temporal/dev-server';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { freePort } from '../../src/util/free-port';
import { createTestApi, PERMISSIONS_DIFF, storedTarget, type TestApi } from '../support/api';
import { sharedTestState } from '../support/shared-state';


/** Pieces an attacker puts into text: each alone, or inside ordinary text. */
const hostilePiece = fc.constantFrom(
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\r',
  '\n',
  '\r\n',
  '\t',
  '\u202e',
  '\u2066',
  '\u2028',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\n\nApproved-by: forged-ceo',
  '\nPatch-Id: 00000000-0000-4000-8000-000000000000',
  '---',
  '--upload-pack=touch /tmp/pwned',
  'ext::sh -c touch% /tmp/pwned',
  '${env:DATABASE_URL}',
  '{{ github.token }}',
  '../../../etc/passwd',
  "'; DROP TABLE targets; --",
  'x'.repeat(70_000),
);

const hostileText = fc
  .tuple(fc.string({ maxLength: 12 }), hostilePiece, fc.string({ unit: 'binary', maxLength: 12 }), fc.option(hostilePiece, { nil: '' }))
  .map(([before, piece, middle, last]) => `${before}${piece}${middle}${last}`);

type Body = Record<string, unknown>;

/** Every string field of a body, as a setter on a deep copy. */
interface Field {
  name: string;
  set(body: Body, value: string): Body;
}

function field(name: string, place: (body: Body, value: string) => void): Field {
  return {
    name,
    set(body, value) {
      const copy = structuredClone(body);
      place(copy, value);
      return copy;
    },
  };
}

describe('hostile strings in every string field of every POST route', () => {
  let api: TestApi;
  let server: DevServer;
  let client: Client;
  let admin: string;
  let operator: string;
  let guardian: string;
  let targetId: string;
  let patchId: string;
  let policyId: string;

  beforeAll(async () => {
    const state = sharedTestState();
    const port = await freePort();
    server = await startDevServer({ cliPath: state.temporalCli, dbFile: path.join(state.scratch, `hostile-${port}.db`), port, uiPort: await freePort(), namespace: 'default' });
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
    await ensureSearchAttributes(client, 'default');
    api = await createTestApi({
      temporalClient: client,
      env: { TEMPORAL_TASK_QUEUE: `hostile-${randomUUID()}`, FORGE_CREDENTIALS: 'gitea-bot: { forge: gitea, baseUrl: "https://git.example.com", token: not-a-real-token }' },
    });
    [admin, operator, guardian] = await Promise.all([api.token(['admin'], 'ada'), api.token(['operator'], 'olga'), api.token(['guardian'], 'gus')]);
    const target = await storedTarget(api.db, 'org/hostile');
    targetId = target.id;
    const created = await request(api.app)
      .post('/api/v1/patches')
      .set('Authorization', `Bearer ${operator}`)
      .send({ title: 'Pin permissions', type: 'security', targets: [targetId], diff: PERMISSIONS_DIFF });
    expect(created.status).toBe(202);
    patchId = created.body.id;
    // No worker runs here: with the run closed, every action the input lets through gets a quick 409.
    await client.workflow.getHandle(String(created.body.workflowId)).terminate('hostile-input test');
    const policy = await request(api.app).post('/api/v1/policies').set('Authorization', `Bearer ${admin}`).send(policyBody());
    expect(policy.status).toBe(201);
    policyId = policy.body.id;
  }, 120_000);

  afterAll(async () => {
    await api.close();
    await client.connection.close();
    await server.stop();
  });

  async function counts(): Promise<Record<string, number | string | null>> {
    const { rows } = await api.db.pool.query<{ targets: string; patches: string; approvals: string; policies: string; labels: string }>(
      `SELECT (SELECT count(*) FROM targets) AS targets, (SELECT count(*) FROM patches) AS patches, (SELECT count(*) FROM approvals) AS approvals,
         (SELECT count(*) FROM agent_policies) AS policies, (SELECT md5(string_agg(labels::text, ',' ORDER BY id)) FROM targets) AS labels`,
    );
    const row = rows[0] ?? { targets: '0', patches: '0', approvals: '0', policies: '0', labels: '' };
    return { targets: Number(row.targets), patches: Number(row.patches), approvals: Number(row.approvals), policies: Number(row.policies), labels: row.labels };
  }

  let nameCounter = 0;
  const uniqueName = (): string => `org/hostile-${(nameCounter += 1)}`;

  const targetBody = (): Body => ({
    name: uniqueName(),
    repoUrl: 'https://git.example.com/org/repo.git',
    branch: 'main',
    healthChecks: [{ type: 'http', url: 'https://health.example.com/ok', headers: { 'X-Token': 'static' }, bodyIncludes: 'ok' }],
    verifyCommand: ['make', 'test'],
    sandbox: { network: false, env: { CI: 'true' } },
    workflowRunEvent: 'pull_request',
    labels: { team: 'payments' },
    forge: { credential: 'gitea-bot', repository: 'org/repo' },
    delivery: { mode: 'pull-request', mergeMethod: 'squash', labels: ['wpa'], requiredChecks: ['ci/test'] },
  });
  let policyCounter = 0;
  const policyBody = (): Body => ({
    name: `hostile-${(policyCounter += 1)}`,
    targets: { nameGlob: 'org/*', labels: { team: 'payments' } },
    schedule: { cron: '0 3 * * mon' },
    rules: ['missing-job-timeout'],
    minSeverity: 'medium',
    grouping: 'per-rule',
    quietWindows: [{ days: ['sat'], start: '00:00', end: '24:00' }],
  });
  const patchBody = (): Body => ({
    title: 'Pin permissions',
    type: 'security',
    description: 'Why: least privilege.',
    targets: [targetId],
    diff: PERMISSIONS_DIFF,
    quietWindows: [{ days: ['sat'], start: '00:00', end: '24:00' }],
  });

  const routes: Array<{ route: string; method?: 'put'; token: () => string; body: () => Body; fields: Field[] }> = [
    {
      route: '/targets',
      token: () => admin,
      body: targetBody,
      fields: [
        field('name', (b, v) => (b.name = v)),
        field('repoUrl', (b, v) => (b.repoUrl = v)),
        field('branch', (b, v) => (b.branch = v)),
        field('healthChecks.0.url', (b, v) => ((b.healthChecks as Body[])[0]!.url = v)),
        field('healthChecks.0.headers value', (b, v) => ((b.healthChecks as Body[])[0]!.headers = { 'X-Token': v })),
        field('healthChecks.0.headers name', (b, v) => ((b.healthChecks as Body[])[0]!.headers = { [v]: 'static' })),
        field('healthChecks.0.bodyIncludes', (b, v) => ((b.healthChecks as Body[])[0]!.bodyIncludes = v)),
        field('verifyCommand.0', (b, v) => (b.verifyCommand = [v, 'test'])),
        field('verifyCommand.1', (b, v) => (b.verifyCommand = ['make', v])),
        field('sandbox.env value', (b, v) => (b.sandbox = { env: { CI: v } })),
        field('sandbox.env name', (b, v) => (b.sandbox = { env: { [v]: 'true' } })),
        field('workflowRunEvent', (b, v) => (b.workflowRunEvent = v)),
        field('labels value', (b, v) => (b.labels = { team: v })),
        field('labels key', (b, v) => (b.labels = { [v]: 'payments' })),
        field('forge.credential', (b, v) => (b.forge = { credential: v, repository: 'org/repo' })),
        field('forge.repository', (b, v) => (b.forge = { credential: 'gitea-bot', repository: v })),
        field('delivery.mode', (b, v) => (b.delivery = { mode: v })),
        field('delivery.mergeMethod', (b, v) => (b.delivery = { mode: 'pull-request', mergeMethod: v })),
        field('delivery.labels.0', (b, v) => (b.delivery = { mode: 'pull-request', labels: [v] })),
        field('delivery.requiredChecks', (b, v) => (b.delivery = { mode: 'pull-request', requiredChecks: v })),
        field('delivery.requiredChecks.0', (b, v) => (b.delivery = { mode: 'pull-request', requiredChecks: [v] })),
        field('delivery.revert', (b, v) => (b.delivery = { mode: 'pull-request', revert: v })),
        field('healthChecks.0 ci-status checks.0', (b, v) => (b.healthChecks = [{ type: 'ci-status', checks: [v] }])),
      ],
    },
    {
      route: '/targets/{target}/labels',
      method: 'put',
      token: () => operator,
      body: (): Body => ({ labels: { team: 'payments' } }),
      fields: [field('labels value', (b, v) => (b.labels = { team: v })), field('labels key', (b, v) => (b.labels = { [v]: 'payments' }))],
    },
    {
      route: '/policies',
      token: () => admin,
      body: policyBody,
      fields: [
        field('name', (b, v) => (b.name = v)),
        field('targets', (b, v) => (b.targets = v)),
        field('targets.nameGlob', (b, v) => (b.targets = { nameGlob: v })),
        field('targets.labels value', (b, v) => (b.targets = { labels: { team: v } })),
        field('targets.labels key', (b, v) => (b.targets = { labels: { [v]: 'payments' } })),
        field('schedule.cron', (b, v) => (b.schedule = { cron: v })),
        field('schedule.interval', (b, v) => (b.schedule = { interval: v })),
        field('rules.0', (b, v) => (b.rules = [v])),
        field('minSeverity', (b, v) => (b.minSeverity = v)),
        field('grouping', (b, v) => (b.grouping = v)),
        field('quietWindows.0.days.0', (b, v) => (b.quietWindows = [{ days: [v], start: '00:00', end: '24:00' }])),
        field('quietWindows.0.start', (b, v) => (b.quietWindows = [{ days: ['sat'], start: v, end: '24:00' }])),
        field('quietWindows.0.end', (b, v) => (b.quietWindows = [{ days: ['sat'], start: '00:00', end: v }])),
      ],
    },
    ...(['pause', 'resume'] as const).map((command) => ({
      route: `/policies/{policy}/${command}`,
      token: () => admin,
      body: (): Body => ({ note: 'freeze' }),
      fields: [field('note', (b, v) => (b.note = v))],
    })),
    {
      route: '/analyses',
      token: () => operator,
      body: () => ({ targetId: randomUUID() }),
      fields: [field('targetId', (b, v) => (b.targetId = v)), field('targetIds.0', (b, v) => (b.targetIds = [v]))],
    },
    {
      route: '/analyses',
      token: () => operator,
      body: (): Body => ({ targets: { nameGlob: 'org/*', labels: { team: 'payments' } } }),
      fields: [
        field('targets', (b, v) => (b.targets = v)),
        field('targets.nameGlob', (b, v) => ((b.targets as Body).nameGlob = v)),
        field('targets.labels value', (b, v) => ((b.targets as Body).labels = { team: v })),
        field('targets.labels key', (b, v) => ((b.targets as Body).labels = { [v]: 'payments' })),
      ],
    },
    {
      route: '/patches',
      token: () => operator,
      body: patchBody,
      fields: [
        field('title', (b, v) => (b.title = v)),
        field('type', (b, v) => (b.type = v)),
        field('description', (b, v) => (b.description = v)),
        field('diff', (b, v) => (b.diff = v)),
        field('targets.0', (b, v) => (b.targets = [v])),
        field('quietWindows.0.days.0', (b, v) => (b.quietWindows = [{ days: [v], start: '00:00', end: '24:00' }])),
        field('quietWindows.0.start', (b, v) => (b.quietWindows = [{ days: ['sat'], start: v, end: '24:00' }])),
      ],
    },
    {
      route: '/patches',
      token: () => operator,
      body: (): Body => ({ title: 'Fix timeouts', fromFindings: { analysisIds: [randomUUID()], ruleIds: ['missing-job-timeout'], fingerprints: ['a'.repeat(64)] } }),
      fields: [
        field('fromFindings.analysisIds.0', (b, v) => ((b.fromFindings as Body).analysisIds = [v])),
        field('fromFindings.ruleIds.0', (b, v) => ((b.fromFindings as Body).ruleIds = [v])),
        field('fromFindings.fingerprints.0', (b, v) => ((b.fromFindings as Body).fingerprints = [v])),
        field('fromFindings title', (b, v) => (b.title = v)),
      ],
    },
    ...(['approve', 'reject', 'pause', 'abort'] as const).map((action) => ({
      route: `/patches/{patch}/${action}`,
      token: () => guardian,
      body: (): Body => (action === 'approve' ? { comment: 'fine' } : { reason: 'because' }),
      fields: [field(action === 'approve' ? 'comment' : 'reason', (b, v) => (b[action === 'approve' ? 'comment' : 'reason'] = v))],
    })),
  ];

  for (const { route, method = 'post', token, body, fields } of routes) {
    for (const target of fields) {
      test(`${method.toUpperCase()} ${route}: ${target.name}`, async () => {
        await fc.assert(
          fc.asyncProperty(hostileText, async (text) => {
            const sent = target.set(body(), text);
            const before = await counts();
            const res = await request(api.app)[method](`/api/v1${route.replace('{patch}', patchId).replace('{policy}', policyId).replace('{target}', targetId)}`)
              .set('Authorization', `Bearer ${token()}`)
              .send(sent);
            expect(res.status).toBeLessThan(500);
            if (res.status >= 400) {
              expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
              expect(typeof res.body.detail).toBe('string');
              expect(res.body.detail).not.toMatch(/Too (small|big)|Invalid input|expected (string|number)/);
              expect(await counts()).toEqual(before);
            } else if (route === '/targets') {
              // Accepted: stored as sent (text fields trimmed), nothing lost.
              const stored = await request(api.app).get(`/api/v1/targets/${res.body.id}`).set('Authorization', `Bearer ${token()}`);
              expect(stored.body.verifyCommand).toEqual(sent.verifyCommand);
              expect(stored.body.sandbox.env).toEqual((sent.sandbox as { env: Record<string, string> }).env);
              expect(stored.body.name).toBe(sent.name);
              expect(stored.body.labels).toEqual(sent.labels);
            } else if (route === '/policies') {
              const stored = await request(api.app).get(`/api/v1/policies/${res.body.id}`).set('Authorization', `Bearer ${token()}`);
              expect(stored.body.spec.targets).toEqual(sent.targets);
              expect(stored.body.spec.quietWindows).toEqual(sent.quietWindows);
            }
          }),
          { numRuns: 25 },
        );
      }, 120_000);
    }
  }

  test('GET /patches: a hostile or forged cursor is refused with 400, never a 5xx', async () => {
    const anyId = fc.oneof(fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000'), hostileText);
    const position = fc.oneof(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String), hostileText, fc.constantFrom('', '0', '9007199254740991', '9007199254740992', '1e15'));
    const forged = fc.tuple(position, fc.constantFrom(':', '::', ';', ''), anyId).map(([at, separator, id]) => Buffer.from(`${at}${separator}${id}`).toString('base64url'));
    // Every UTF-8 byte percent-encoded (a lone surrogate becomes U+FFFD, as a client would send it), or raw escapes.
    const percentEncoded = (text: string): string => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
    const cursor = fc.oneof(
      fc.oneof(hostileText, forged, fc.string({ unit: 'binary', maxLength: 200 })).map(percentEncoded),
      fc.constantFrom('%', '%zz', '%ff%fe', '%00', '%e2%80%ae', '%5B%5D=x', '[]', '[a]=b'),
    );
    await fc.assert(
      fc.asyncProperty(cursor, fc.constantFrom('', '&status=deployed', `&target=${targetId}`), async (value, filters) => {
        const res = await request(api.app)
          .get(`/api/v1/patches?cursor=${value}${filters}`)
          .set('Authorization', `Bearer ${operator}`);
        // 431: Node's HTTP server refuses a request line longer than its header limit (the 70,000-character piece).
        expect([200, 400, 431]).toContain(res.status);
        if (res.status === 400) {
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body.errors[0].path).toBe('query.cursor');
        } else if (res.status === 200) {
          expect(Array.isArray(res.body.items)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('a title carrying a trailer line is refused and names the field', async () => {
    const res = await request(api.app)
      .post('/api/v1/patches')
      .set('Authorization', `Bearer ${operator}`)
      .send({ ...patchBody(), title: 'x\n\nApproved-by: forged-ceo' });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: 'title', message: 'title must be one line (no line breaks or tabs).' }]);
  });

  test('a NUL byte anywhere is refused with 422 naming the field and the character', async () => {
    const res = await request(api.app)
      .post('/api/v1/targets')
      .set('Authorization', `Bearer ${admin}`)
      .send({ ...targetBody(), healthChecks: [{ type: 'http', url: 'https://h.example.com/', headers: { 'X-A': 'a\u0000b' } }] });
    expect(res.status).toBe(422);
    expect(res.body.errors[0]).toEqual({ path: 'healthChecks.0.headers.X-A', message: 'healthChecks.0.headers.X-A contains a NUL character (U+0000) at position 2; remove it.' });
  });
});
